import { Duration } from 'aws-cdk-lib';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueDecl } from '../../shared/platform/declarations.ts';
import type { AppFunction } from './app-function.ts';
import { acknowledgeRule } from './nag.ts';

export interface QueueWorkerProps {
  /** The declared queue: receives before dead-lettering, batch size and consumer concurrency. */
  readonly decl: QueueDecl;
  /** The function consuming the queue (its timeout sets the visibility timeout). */
  readonly consumer: AppFunction;
  /** Visibility timeout as a multiple of the consumer's timeout; AWS advises at least 6. @default 6 */
  readonly visibilityMultiple?: number;
  /** How long failed messages stay in the dead-letter queue. @default Duration.days(14) */
  readonly deadLetterRetention?: Duration;
}

/**
 * A declared queue with its dead-letter queue (after `maxReceives`), SQS-managed encryption and TLS-only
 * access, consumed by its function with the declared batch size and maximum concurrency, reporting
 * partial batch failures so one bad message does not retry the whole batch.
 */
export class QueueWorker extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueueWorkerProps) {
    super(scope, id);
    const { decl, consumer } = props;
    const multiple = props.visibilityMultiple ?? 6;
    if (multiple < 6) throw new Error(`${decl.name}: visibilityMultiple must be at least 6, got ${multiple}`);
    if (!Number.isInteger(decl.maxReceives) || decl.maxReceives < 1) throw new Error(`${decl.name}: maxReceives must be a positive integer`);
    if (!Number.isInteger(decl.concurrency) || decl.concurrency < 2 || decl.concurrency > 1000) {
      throw new Error(`${decl.name}: concurrency must be 2 to 1000 (the SQS event source's limits), got ${decl.concurrency}`);
    }
    if (!Number.isInteger(decl.batchSize) || decl.batchSize < 1 || decl.batchSize > 10) {
      throw new Error(`${decl.name}: batchSize must be 1 to 10 without a batching window, got ${decl.batchSize}`);
    }
    const visibility = Duration.seconds(consumer.function.timeout!.toSeconds() * multiple);
    if (visibility.toSeconds() > 43_200) throw new Error(`${decl.name}: visibility timeout ${visibility.toSeconds()} s exceeds SQS's 12 hours`);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });
    acknowledgeRule(this.deadLetterQueue, 'AwsSolutions-SQS3', 'This is the dead-letter queue of its work queue; its messages are inspected and redriven by hand');

    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: visibility,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: decl.maxReceives },
    });

    consumer.function.addEventSource(
      new lambdaEvents.SqsEventSource(this.queue, {
        batchSize: decl.batchSize,
        maxConcurrency: decl.concurrency,
        reportBatchItemFailures: true,
      }),
    );
  }
}
