import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { StageConfig } from './stage-config.ts';

export interface MonitoringStackProps extends StackProps {
  readonly config: StageConfig;
  readonly httpApi: apigwv2.IHttpApi;
  readonly scanWorkflow: sfn.IStateMachine;
  /** Work queues and their dead-letter queues, by declared name. */
  readonly queues: ReadonlyArray<{ readonly name: string; readonly queue: sqs.IQueue; readonly deadLetterQueue: sqs.IQueue }>;
  /** Alarm thresholds of SPEC §10. */
  readonly thresholds?: {
    /** Percent of scan executions failing. @default 10 */
    readonly scanFailurePercent?: number;
    /** Percent of API requests answered 5xx. @default 5 */
    readonly api5xxPercent?: number;
    /** Visible messages in a work queue. @default 1000 */
    readonly queueDepth?: number;
    /** Bedrock server errors and throttles in 5 minutes. @default 5 */
    readonly bedrockErrors?: number;
  };
}

const PERIOD = Duration.minutes(5);

/** The alarms of SPEC §10, all notifying one SNS topic (and the configured e-mail address). */
export class MonitoringStack extends Stack {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const t = props.thresholds ?? {};
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: `CodeGuardian ${props.config.stage} alarms`, enforceSSL: true });
    if (props.config.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.config.alarmEmail));
    const action = new cwActions.SnsAction(this.topic);
    const add = (alarm: cloudwatch.Alarm): void => {
      alarm.addAlarmAction(action);
      this.alarms.push(alarm);
    };

    const failed = props.scanWorkflow.metricFailed({ period: PERIOD, statistic: 'Sum' });
    const timedOut = props.scanWorkflow.metricTimedOut({ period: PERIOD, statistic: 'Sum' });
    const started = props.scanWorkflow.metricStarted({ period: PERIOD, statistic: 'Sum' });
    add(
      new cloudwatch.MathExpression({
        expression: 'IF(started > 0, 100 * (failed + timedOut) / started, 0)',
        usingMetrics: { failed, timedOut, started },
        period: PERIOD,
        label: 'Scan failure rate (%)',
      }).createAlarm(this, 'ScanFailureRate', {
        alarmDescription: 'More than 10 % of scan workflow executions failed or timed out',
        threshold: t.scanFailurePercent ?? 10,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    const errors = props.httpApi.metricServerError({ period: PERIOD, statistic: 'Sum' });
    const count = props.httpApi.metricCount({ period: PERIOD, statistic: 'Sum' });
    add(
      new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: { errors, requests: count },
        period: PERIOD,
        label: 'API 5xx rate (%)',
      }).createAlarm(this, 'Api5xxRate', {
        alarmDescription: 'More than 5 % of API requests answered 5xx',
        threshold: t.api5xxPercent ?? 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    for (const { name, queue, deadLetterQueue } of props.queues) {
      add(
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }).createAlarm(this, `${name}DeadLetters`, {
          alarmDescription: `The ${name} dead-letter queue holds messages`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      add(
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }).createAlarm(this, `${name}Depth`, {
          alarmDescription: `More than 1000 messages wait in the ${name} queue`,
          threshold: t.queueDepth ?? 1000,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const models = [...new Set([props.config.bedrockModelId, props.config.bedrockFastModelId].filter((m): m is string => Boolean(m)))];
    for (const [i, modelId] of models.entries()) {
      const metric = (metricName: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/Bedrock', metricName, dimensionsMap: { ModelId: modelId }, period: PERIOD, statistic: 'Sum' });
      add(
        new cloudwatch.MathExpression({
          expression: 'serverErrors + throttles',
          usingMetrics: { serverErrors: metric('InvocationServerErrors'), throttles: metric('InvocationThrottles') },
          period: PERIOD,
          label: `Bedrock errors (${modelId})`,
        }).createAlarm(this, `BedrockErrors${i}`, {
          alarmDescription: `Bedrock model ${modelId} returned server errors or throttled`,
          threshold: t.bedrockErrors ?? 5,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
  }
}
