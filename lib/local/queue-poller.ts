import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { HandlerRuntime } from './handlers.ts';
import type { LocalQueue } from './provision.ts';

export interface QueuePollerOptions {
  readonly sqs: SQSClient;
  readonly runtime: HandlerRuntime;
  readonly queues: readonly LocalQueue[];
  readonly region: string;
  /** Seconds before a failed message is delivered again. */
  readonly retryDelaySeconds: number;
  /** Long-poll wait of each ReceiveMessage. */
  readonly waitSeconds: number;
  readonly log?: (line: string) => void;
}

/**
 * Stands in for Lambda's SQS event source mapping: per declared queue, `concurrency` long-polling loops
 * deliver batches of up to `batchSize` SQS records to the consumer, delete what succeeded, honour
 * `batchItemFailures`, make failures visible again after `retryDelaySeconds`, and move a message to the
 * dead-letter queue once it has been received `maxReceives` times. Receive counts are kept here because the
 * emulator counts visibility changes as receives.
 */
export class QueuePoller {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly abort = new AbortController();
  private readonly receives = new Map<string, number>();
  private readonly log: (line: string) => void;

  constructor(private readonly options: QueuePollerOptions) {
    this.log = options.log ?? (() => undefined);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const queue of this.options.queues) {
      for (let i = 0; i < queue.decl.concurrency; i++) this.loops.push(this.loop(queue));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops.splice(0));
  }

  private async loop(queue: LocalQueue): Promise<void> {
    while (this.running) {
      try {
        await this.pollOnce(queue);
      } catch (error) {
        if (!this.running) return;
        this.log(`${queue.decl.name} poll failed: ${error instanceof Error ? error.message : String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }

  private async pollOnce(queue: LocalQueue): Promise<void> {
    const { sqs } = this.options;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: Math.min(queue.decl.batchSize, 10),
        WaitTimeSeconds: this.options.waitSeconds,
        // Hidden for as long as the consumer may run, as Lambda requires of a queue's visibility timeout.
        VisibilityTimeout: queue.decl.consumer.timeoutSeconds + 30,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    const messages = (received.Messages ?? []).filter((m) => m.MessageId && m.ReceiptHandle);
    if (messages.length === 0) return;

    const records = messages.map((m) => this.record(queue, m));
    const failed = await this.deliver(queue, records);
    await Promise.all(
      messages.map(async (message, i) => {
        const record = records[i] as SQSRecord;
        if (!failed.has(record.messageId)) {
          this.receives.delete(record.messageId);
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
          return;
        }
        const count = Number(record.attributes.ApproximateReceiveCount);
        if (count >= queue.decl.maxReceives) {
          await sqs.send(
            new SendMessageCommand({ QueueUrl: queue.dlqUrl, MessageBody: message.Body ?? '', MessageAttributes: message.MessageAttributes }),
          );
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
          this.receives.delete(record.messageId);
          this.log(`${queue.decl.name} message ${record.messageId} moved to the dead-letter queue after ${count} receives`);
          return;
        }
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queue.url,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: this.options.retryDelaySeconds,
          }),
        );
      }),
    );
  }

  /** Invokes the consumer; resolves to the ids of the records that failed. */
  private async deliver(queue: LocalQueue, records: SQSRecord[]): Promise<Set<string>> {
    const all = new Set(records.map((r) => r.messageId));
    const event: SQSEvent = { Records: records };
    let result: unknown;
    try {
      result = await this.options.runtime.invoke(queue.decl.consumer.entry, event, {
        timeoutSeconds: queue.decl.consumer.timeoutSeconds,
        memoryMb: queue.decl.consumer.memoryMb,
      });
    } catch (error) {
      this.log(`${queue.decl.name} consumer failed: ${error instanceof Error ? error.message : String(error)}`);
      return all;
    }
    if (result === null || typeof result !== 'object' || !('batchItemFailures' in result)) return new Set();
    const failures = (result as SQSBatchResponse).batchItemFailures;
    if (!Array.isArray(failures)) return new Set();
    const failed = new Set<string>();
    for (const failure of failures) {
      // Lambda fails the whole batch when a reported identifier is missing or unknown.
      if (!failure || typeof failure.itemIdentifier !== 'string' || !all.has(failure.itemIdentifier)) return all;
      failed.add(failure.itemIdentifier);
    }
    return failed;
  }

  private record(queue: LocalQueue, message: Message): SQSRecord {
    const id = message.MessageId as string;
    const count = (this.receives.get(id) ?? 0) + 1;
    this.receives.set(id, count);
    const attributes = message.Attributes ?? {};
    const now = String(Date.now());
    const messageAttributes: SQSRecord['messageAttributes'] = {};
    for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
      messageAttributes[name] = {
        dataType: value.DataType ?? 'String',
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      };
    }
    return {
      messageId: id,
      receiptHandle: message.ReceiptHandle as string,
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: String(count),
        SentTimestamp: attributes.SentTimestamp ?? now,
        SenderId: attributes.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? now,
      },
      messageAttributes,
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: this.options.region,
    };
  }
}
