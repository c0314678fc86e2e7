import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';

/**
 * Acknowledges one AwsSolutions-IAM5 finding: a wildcard on exactly `resource` (a string that may hold tokens,
 * such as `${bucket.bucketArn}/*`), with its reason. cdk-nag 3 matches findings by their exact text, and
 * a token's text is only final once cross-stack references are resolved, so the finding is computed in a
 * validation hook, which runs after references are resolved and before the validation plugins.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  scope.node.addValidation({
    validate: () => {
      const flat = flattenCfnReference(Stack.of(scope).resolve(resource));
      Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
      return [];
    },
  });
}

/** Acknowledges one AwsSolutions-IAM5 wildcard action finding, such as `xray:*`, with its reason. */
export function acknowledgeWildcardAction(scope: IConstruct, action: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason });
}

/** Acknowledges a whole cdk-nag rule on `scope` and its children, with its reason. */
export function acknowledgeRule(scope: IConstruct, ruleId: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: ruleId, reason });
}
