import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { queues, type QueueDecl } from '../../shared/platform/declarations.ts';
import { AppFunction } from '../../lib/constructs/app-function.ts';
import { QueueWorker } from '../../lib/constructs/queue-worker.ts';
import { DataStack } from '../../lib/stacks/data-stack.ts';
import { testApp } from './platform-fixture.ts';

const base: QueueDecl = queues.notifications;

function worker(decl: Partial<QueueDecl>, visibilityMultiple?: number, timeoutSeconds = decl.consumer?.timeoutSeconds ?? base.consumer.timeoutSeconds) {
  const stack = new Stack(testApp({ 'aws:cdk:bundling-stacks': [] }), 'Q');
  const full = { ...base, ...decl };
  const consumer = new AppFunction(stack, 'Consumer', { handler: { ...full.consumer, timeoutSeconds } });
  new QueueWorker(stack, full.name, { decl: full, consumer, visibilityMultiple });
  return stack;
}

describe('QueueWorker', () => {
  test('a larger multiple lengthens the visibility timeout', () => {
    Template.fromStack(worker({}, 8)).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 8 * base.consumer.timeoutSeconds });
  });

  test.each([
    [{}, 5, 'visibilityMultiple must be at least 6, got 5'],
    [{ concurrency: 1 }, undefined, 'concurrency must be 2 to 1000 (the SQS event source\'s limits), got 1'],
    [{ batchSize: 11 }, undefined, 'batchSize must be 1 to 10 without a batching window, got 11'],
    [{ maxReceives: 0 }, undefined, 'maxReceives must be a positive integer'],
    [{ consumer: { entry: base.consumer.entry, timeoutSeconds: 900 } }, 60, 'visibility timeout 54000 s exceeds SQS\'s 12 hours'],
  ])('refuses %j (multiple %s)', (decl, multiple, message) => {
    expect(() => worker(decl as Partial<QueueDecl>, multiple)).toThrow(`${base.name}: ${message}`);
  });
});

describe('DataStack', () => {
  test.each([
    [{ sourceRetentionDays: 0 }, 'sourceRetentionDays must be a positive integer, got 0'],
    [{ reportRetentionDays: 1.5 }, 'reportRetentionDays must be a positive integer, got 1.5'],
  ])('refuses %j', (props, message) => {
    expect(() => new DataStack(testApp(), 'Data', props)).toThrow(message);
  });
});
