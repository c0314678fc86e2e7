import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { queues, routes, workflows, type RouteDecl } from '../../shared/platform/declarations.ts';
import type { AppFunction } from '../constructs/app-function.ts';
import { acknowledgeRule } from '../constructs/nag.ts';
import { constructIdFor, platformFunction, type DataResources } from './common.ts';
import { bedrockResourceArns, type StageConfig } from './stage-config.ts';

export interface ApiStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataResources;
  readonly queues: Readonly<Record<keyof typeof queues, sqs.IQueue>>;
  readonly scanWorkflow: sfn.IStateMachine;
  /** The routes to serve. @default every declared route */
  readonly routes?: readonly RouteDecl[];
  /** Steady-state requests per second across the API. @default 100 */
  readonly rateLimit?: number;
  /** @default 200 */
  readonly burstLimit?: number;
}

const AUTH_REASON: Record<RouteDecl['access'], string> = {
  public: 'Public by contract (SPEC §4); rate-limited per IP by the handler and throttled by the stage',
  user: 'The handler\'s Middy preset verifies the Bearer JWT and its revocation in the table, which a JWT authorizer cannot check',
  github: 'Called by GitHub: the handler verifies X-Hub-Signature-256 in constant time before storing anything',
};

/**
 * The HTTP API: one function per declared route, integrated on that route alone, CORS for the dashboard's
 * origin, stage throttling and JSON access logs. Outputs the API URL and the GitHub webhook URL.
 */
export class ApiStack extends Stack {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  /** The function serving each route, keyed `METHOD path`. */
  readonly routeFunctions: ReadonlyMap<string, AppFunction>;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    const declared = props.routes ?? routes;
    const models = [...new Set([...bedrockResourceArns(config.bedrockModelId), ...bedrockResourceArns(config.bedrockFastModelId)])];

    const seen = new Set<string>();
    for (const route of declared) {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) throw new Error(`Route ${key} is declared twice`);
      if (!route.path.startsWith('/')) throw new Error(`Route ${key}: path must start with /`);
      seen.add(key);
    }

    this.api = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'CodeGuardian REST API',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [config.frontendUrl],
        allowMethods: [...new Set(declared.map((r) => apigwv2.CorsHttpMethod[r.method]))],
        allowHeaders: ['Authorization', 'Content-Type'],
        exposeHeaders: ['Retry-After'],
        maxAge: Duration.hours(1),
      },
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 100, burstLimit: props.burstLimit ?? 200 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.jsonWithStandardFields({
          caller: false, httpMethod: true, ip: true, protocol: true, requestTime: true,
          resourcePath: true, responseLength: true, status: true, user: false,
        }),
      },
    });

    const byEntry = new Map<string, AppFunction>();
    const routeFunctions = new Map<string, AppFunction>();
    for (const route of declared) {
      let fn = byEntry.get(route.entry);
      if (!fn) {
        fn = platformFunction(this, config, route).bindTable(data.table, 'write').bindSecret(data.secret);
        if (route.access === 'github') {
          fn.bindQueue(props.queues.githubEvents, queues.githubEvents.envVar);
        } else {
          fn.bindBucket(data.bucket, 'read')
            .bindTokenKey(data.tokenKey)
            .bindQueue(props.queues.scanJobs, queues.scanJobs.envVar)
            .bindQueue(props.queues.fixGeneration, queues.fixGeneration.envVar)
            .bindWorkflow(props.scanWorkflow, workflows.scan.envVar);
        }
        if (route.invokesModel) fn.bindModels(models);
        byEntry.set(route.entry, fn);
      }
      const routeId = `${constructIdFor(route.entry)}${route.method}`;
      const [httpRoute] = this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(routeId, fn.function),
      });
      if (httpRoute) acknowledgeRule(httpRoute, 'AwsSolutions-APIG4', AUTH_REASON[route.access]);
      routeFunctions.set(`${route.method} ${route.path}`, fn);
    }
    this.routeFunctions = routeFunctions;

    const base = this.stage.url.replace(/\/$/, '');
    const apiPrefix = commonPrefix(declared.map((r) => r.path));
    new CfnOutput(this, 'ApiUrl', { value: `${base}${apiPrefix}`, description: 'REST API base URL' });
    const webhook = declared.filter((r) => r.access === 'github' && r.method === 'POST').sort((a, b) => a.path.length - b.path.length)[0];
    if (webhook) {
      new CfnOutput(this, 'WebhookUrl', { value: `${base}${webhook.path}`, description: 'Webhook URL of the GitHub App' });
    }
  }
}

/** The longest leading run of whole path segments shared by all paths: `/api` for the declared routes. */
function commonPrefix(paths: readonly string[]): string {
  const split = paths.map((p) => p.split('/').filter(Boolean));
  const first = split[0] ?? [];
  let n = 0;
  while (n < first.length && split.every((parts) => parts[n] === first[n] && parts.length > n + 1)) n += 1;
  return n === 0 ? '' : `/${first.slice(0, n).join('/')}`;
}
