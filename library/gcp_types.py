"""The Pulumi type tokens of the GCP resources Switchboard declares or checks, declared once.

``pulumi_gcp`` spells a resource's type ``gcp:<module>/<camelName>:<ClassName>``; the
program's API table and offline mocks, the render readers (preflight, diff, cost) and
their rules compare against these names instead of spelling the token again. The data
sources the program reads (``invoke`` tokens) follow the resources.
"""

from __future__ import annotations

PREFIX = "gcp:"


# artifactregistry
ARTIFACT_REPOSITORY = "gcp:artifactregistry/repository:Repository"
ARTIFACT_REPOSITORY_IAM_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"

# billing
BILLING_BUDGET = "gcp:billing/budget:Budget"

# cloudfunctionsv2
CLOUD_FUNCTION = "gcp:cloudfunctionsv2/function:Function"

# cloudrunv2
CLOUD_RUN_SERVICE = "gcp:cloudrunv2/service:Service"
CLOUD_RUN_SERVICE_IAM_BINDING = "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding"
CLOUD_RUN_SERVICE_IAM_MEMBER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"

# cloudscheduler
SCHEDULER_JOB = "gcp:cloudscheduler/job:Job"

# compute
COMPUTE_ADDRESS = "gcp:compute/address:Address"
COMPUTE_FIREWALL = "gcp:compute/firewall:Firewall"
COMPUTE_NETWORK = "gcp:compute/network:Network"
COMPUTE_ROUTER = "gcp:compute/router:Router"
COMPUTE_ROUTER_NAT = "gcp:compute/routerNat:RouterNat"
COMPUTE_SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"

# essentialcontacts
ESSENTIAL_CONTACT = "gcp:essentialcontacts/contact:Contact"

# firestore
FIRESTORE_BACKUP_SCHEDULE = "gcp:firestore/backupSchedule:BackupSchedule"
FIRESTORE_DATABASE = "gcp:firestore/database:Database"
FIRESTORE_FIELD = "gcp:firestore/field:Field"
FIRESTORE_INDEX = "gcp:firestore/index:Index"

# iam
WORKLOAD_IDENTITY_POOL = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
WORKLOAD_IDENTITY_POOL_PROVIDER = (
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
)

# kms
KMS_CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KMS_KEY_RING = "gcp:kms/keyRing:KeyRing"

# logging
LOG_METRIC = "gcp:logging/metric:Metric"
LOG_BUCKET_CONFIG = "gcp:logging/projectBucketConfig:ProjectBucketConfig"

# monitoring
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
NOTIFICATION_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"

# projects
PROJECT_IAM_AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_SERVICE = "gcp:projects/service:Service"
PROJECT_SERVICE_IDENTITY = "gcp:projects/serviceIdentity:ServiceIdentity"

# pubsub
PUBSUB_SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
PUBSUB_SUBSCRIPTION_IAM_MEMBER = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember"
PUBSUB_TOPIC = "gcp:pubsub/topic:Topic"
PUBSUB_TOPIC_IAM_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember"

# secretmanager
SECRET = "gcp:secretmanager/secret:Secret"
SECRET_IAM_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"
SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion"

# serviceaccount
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
SERVICE_ACCOUNT_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
SERVICE_ACCOUNT_KEY = "gcp:serviceaccount/key:Key"

# sql
SQL_DATABASE_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"

# storage
STORAGE_BUCKET = "gcp:storage/bucket:Bucket"
STORAGE_BUCKET_ACL = "gcp:storage/bucketACL:BucketACL"
STORAGE_BUCKET_ACCESS_CONTROL = "gcp:storage/bucketAccessControl:BucketAccessControl"
STORAGE_BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
STORAGE_BUCKET_OBJECT = "gcp:storage/bucketObject:BucketObject"
STORAGE_DEFAULT_OBJECT_ACL = "gcp:storage/defaultObjectACL:DefaultObjectACL"
STORAGE_DEFAULT_OBJECT_ACCESS_CONTROL = (
    "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl"
)
STORAGE_OBJECT_ACL = "gcp:storage/objectACL:ObjectACL"
STORAGE_OBJECT_ACCESS_CONTROL = "gcp:storage/objectAccessControl:ObjectAccessControl"

# data sources (invoke tokens)
GET_PROJECT = "gcp:organizations/getProject:getProject"
GET_SECRET_VERSION = "gcp:secretmanager/getSecretVersion:getSecretVersion"


def module_prefix(module: str) -> str:
    """``storage`` -> ``gcp:storage/``: every type of one ``pulumi_gcp`` module starts so."""
    return f"{PREFIX}{module}/"
