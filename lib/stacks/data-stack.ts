import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { GLOBAL_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../shared/db/table-definition.ts';
import { SECRET_NAMES } from '../../shared/runtime/env.ts';
import { acknowledgeRule } from '../constructs/nag.ts';
import type { DataResources } from './common.ts';

export interface DataStackProps extends StackProps {
  /** Days source snapshots are kept before they expire. @default 3 */
  readonly sourceRetentionDays?: number;
  /** Days reports and SARIF files are kept before they expire. @default 90 */
  readonly reportRetentionDays?: number;
}

/** Prefixes of the bucket's objects, with their lifecycle. */
export const BUCKET_PREFIXES = { sources: 'sources/', reports: 'reports/' } as const;

/**
 * The platform's state: the single table, the bucket of sources and reports, the application secret and the
 * KMS key protecting it (and with it the key that encrypts stored GitHub tokens). Everything here is
 * retained when the stack is deleted.
 */
export class DataStack extends Stack implements DataResources {
  readonly table: dynamodb.Table;
  readonly bucket: s3.Bucket;
  readonly key: kms.Key;
  /** Envelope-encrypts the GitHub user tokens stored in the table. */
  readonly tokenKey: kms.Key;
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: DataStackProps = {}) {
    super(scope, id, props);
    const sourceDays = props.sourceRetentionDays ?? 3;
    const reportDays = props.reportRetentionDays ?? 90;
    for (const [name, days] of [['sourceRetentionDays', sourceDays], ['reportRetentionDays', reportDays]] as const) {
      if (!Number.isInteger(days) || days < 1) throw new Error(`${name} must be a positive integer, got ${days}`);
    }

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of GLOBAL_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'ExpireSources', prefix: BUCKET_PREFIXES.sources, expiration: Duration.days(sourceDays), noncurrentVersionExpiration: Duration.days(1) },
        { id: 'ExpireReports', prefix: BUCKET_PREFIXES.reports, expiration: Duration.days(reportDays), noncurrentVersionExpiration: Duration.days(7) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    acknowledgeRule(
      this.bucket,
      'AwsSolutions-S1',
      'Only the platform\'s own functions read and write this bucket; their access is traced by X-Ray and logged by CloudTrail data events when enabled, and a second log bucket would hold nothing else',
    );

    this.key = new kms.Key(this, 'SecretsKey', {
      description: 'Encrypts the CodeGuardian application secret, including the key that encrypts stored GitHub tokens',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.tokenKey = new kms.Key(this, 'TokenKey', {
      description: 'Envelope-encrypts the GitHub user tokens CodeGuardian stores',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const placeholders = Object.fromEntries(SECRET_NAMES.filter((name) => name !== 'JWT_SECRET').map((name) => [name, '']));
    this.secret = new secretsmanager.Secret(this, 'AppSecrets', {
      description: `CodeGuardian secrets (${SECRET_NAMES.join(', ')}); fill the empty ones after the first deploy`,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(placeholders),
        generateStringKey: 'JWT_SECRET',
        passwordLength: 64,
        excludePunctuation: true,
      },
    });
    acknowledgeRule(
      this.secret,
      'AwsSolutions-SMG4',
      'Holds GitHub App credentials issued by GitHub and the JWT signing key; they are rotated by hand as documented in docs/deployment.md, since rotating the JWT key ends every session',
    );
  }
}
