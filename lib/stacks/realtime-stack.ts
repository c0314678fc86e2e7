import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { websocket, type HandlerDecl } from '../../shared/platform/declarations.ts';
import type { AppFunction } from '../constructs/app-function.ts';
import { acknowledgeRule } from '../constructs/nag.ts';
import { platformFunction, type DataResources, type WebSocketTarget } from './common.ts';
import type { StageConfig } from './stage-config.ts';

export interface RealtimeStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataResources;
  /** Steady-state messages per second across the stage. @default 50 */
  readonly rateLimit?: number;
  /** @default 100 */
  readonly burstLimit?: number;
}

/** API Gateway's route keys for the declared WebSocket handlers. */
const ROUTE_KEYS = { connect: '$connect', disconnect: '$disconnect', default: '$default' } as const;

/**
 * The WebSocket API of SPEC §5: `$connect` (token checked on the upgrade), `$disconnect` and `$default`,
 * on a stage named after the declared path. It stands in its own stack because the workflows post events
 * to it while the HTTP API starts workflows, so API → workflows → WebSocket has no cycle.
 */
export class RealtimeStack extends Stack implements WebSocketTarget {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly functions: Record<keyof typeof ROUTE_KEYS, AppFunction>;
  readonly apiId: string;
  readonly stageName: string;
  readonly callbackUrl: string;

  constructor(scope: Construct, id: string, props: RealtimeStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    const make = (decl: HandlerDecl): AppFunction =>
      platformFunction(this, config, decl).bindTable(data.table, 'write').bindSecret(data.secret);
    this.functions = {
      connect: make(websocket.connect),
      disconnect: make(websocket.disconnect),
      default: make(websocket.default),
    };

    this.api = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      description: 'CodeGuardian live events',
      connectRouteOptions: { integration: new WebSocketLambdaIntegration('ConnectIntegration', this.functions.connect.function) },
      disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('DisconnectIntegration', this.functions.disconnect.function) },
      defaultRouteOptions: { integration: new WebSocketLambdaIntegration('DefaultIntegration', this.functions.default.function) },
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: websocket.path.replace(/^\//, ''),
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 50, burstLimit: props.burstLimit ?? 100 },
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });
    this.apiId = this.api.apiId;
    this.stageName = this.stage.stageName;
    this.callbackUrl = this.stage.callbackUrl;

    // $default answers on the connection (pings, subscriptions), so it may post to connections too.
    this.functions.default.bindWebSocket(this.apiId, this.stageName, this.callbackUrl);

    for (const [name, key] of Object.entries(ROUTE_KEYS)) {
      const route = this.api.node.findChild(`${key}-Route`);
      acknowledgeRule(
        route,
        'AwsSolutions-APIG4',
        name === 'connect'
          ? 'The $connect handler verifies the ?token= JWT and its revocation in the table, refusing the upgrade with 401'
          : 'Only connections accepted by the token-checking $connect route exist to send on this route',
      );
    }

    new CfnOutput(this, 'WebSocketUrl', { value: this.stage.url, description: 'WebSocket endpoint (connect with ?token=<jwt>)' });
  }
}
