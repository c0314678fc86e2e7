import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createPlatform } from '../lib/stacks/platform.ts';
import { readStageConfig } from '../lib/stacks/stage-config.ts';

const app = new App();
createPlatform(app, readStageConfig(app.node));
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
