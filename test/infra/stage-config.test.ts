import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { bedrockResourceArns, configEnvironment, readStageConfig } from '../../lib/stacks/stage-config.ts';
import { testApp } from './platform-fixture.ts';

const read = (context: Record<string, unknown>) => readStageConfig(testApp(context).node);

describe('readStageConfig', () => {
  test('defaults: dev stage, local dashboard, github.com, no model, environment-agnostic', () => {
    expect(read({})).toEqual({
      stage: 'dev',
      frontendUrl: 'http://localhost:3000',
      githubUrl: 'https://github.com',
      githubApiUrl: 'https://api.github.com',
      bedrockModelId: undefined,
      bedrockFastModelId: undefined,
      alarmEmail: undefined,
      githubAppId: undefined,
      githubClientId: undefined,
      githubAppSlug: undefined,
      account: undefined,
      region: undefined,
    });
  });

  test('reads every key; empty strings (the cdk.json placeholders) count as unset; the fast model falls back', () => {
    const config = read({
      stage: 'prod',
      frontendUrl: 'https://app.example.com/',
      githubApiUrl: 'https://ghe.example.com/api/v3',
      bedrockModelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
      bedrockFastModelId: '',
      alarmEmail: 'ops@example.com',
      account: '123456789012',
      region: 'eu-west-1',
    });
    expect(config).toEqual(
      expect.objectContaining({
        stage: 'prod',
        frontendUrl: 'https://app.example.com',
        githubApiUrl: 'https://ghe.example.com/api/v3',
        bedrockFastModelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
        account: '123456789012',
        region: 'eu-west-1',
      }),
    );
    expect(configEnvironment(config)).toEqual({
      FRONTEND_URL: 'https://app.example.com',
      GITHUB_URL: 'https://github.com',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3',
      BEDROCK_MODEL_ID: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
      BEDROCK_FAST_MODEL_ID: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
    });
  });

  test.each([
    [{ stage: 'Prod' }, 'Context stage must be 1-20 lowercase letters'],
    [{ stage: 'a-very-long-stage-name-indeed' }, 'Context stage must be 1-20'],
    [{ frontendUrl: 'app.example.com' }, 'Context frontendUrl must be an absolute http(s) URL, got "app.example.com"'],
    [{ githubApiUrl: 'ftp://ghe.example.com' }, 'Context githubApiUrl must be an http(s) URL'],
    [{ alarmEmail: 'not-an-address' }, 'Context alarmEmail must be an e-mail address'],
    [{ account: '1234' }, 'Context account must be a 12-digit AWS account id'],
    [{ region: 'mars' }, 'Context region must be an AWS region'],
    [{ bedrockModelId: { id: 'x' } }, 'Context bedrockModelId must be a string'],
  ])('refuses %j', (context, message) => {
    expect(() => read(context)).toThrow(message);
  });
});

describe('bedrockResourceArns', () => {
  const resolve = (arns: string[]) => {
    const stack = new Stack(testApp(), 'S');
    return arns.map((arn) => stack.resolve(arn) as unknown);
  };

  test('nothing configured, nothing granted', () => {
    expect(bedrockResourceArns(undefined)).toEqual([]);
    expect(bedrockResourceArns('')).toEqual([]);
  });

  test('a foundation model id: that model in the stack region', () => {
    expect(resolve(bedrockResourceArns('anthropic.claude-3-5-haiku-20241022-v1:0'))).toEqual([
      {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, '::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0']],
      },
    ]);
  });

  test('an inference profile id: the profile and its model in the regions it routes to', () => {
    const [profile, model] = resolve(bedrockResourceArns('eu.anthropic.claude-sonnet-4-5-20250929-v1:0'));
    expect(profile).toEqual({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0'],
      ],
    });
    expect(model).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0']],
    });
  });

  test('an ARN is used as given', () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc';
    expect(bedrockResourceArns(arn)).toEqual([arn]);
  });
});
