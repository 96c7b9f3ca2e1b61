#!/bin/sh
# One-shot job of the Docker stack (MinIO only), run in MinIO's image, which has the mc client: the
# pipeline's own MinIO account (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), with a policy that allows
# listing the two buckets and reading and writing their objects: no delete, no other bucket, no admin.
# The same rights as the AWS instance role (terraform/iam.tf). MinIO's root key is used here alone.
# Running it again updates the secret and the policy; POSIX sh and builtins only (the image is minimal).
set -eu
lake_bucket=${LAKE_URL#s3://}
lake_bucket=${lake_bucket%%/*}
policy=/tmp/storepipe-pipeline-policy.json
cat > "$policy" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ListTheTwoBuckets",
      "Effect": "Allow",
      "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
      "Resource": ["arn:aws:s3:::${ORDERS_BUCKET}", "arn:aws:s3:::${lake_bucket}"]
    },
    {
      "Sid": "ReadWriteOrders",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject"],
      "Resource": ["arn:aws:s3:::${ORDERS_BUCKET}/*"]
    },
    {
      "Sid": "ReadWriteLake",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      "Resource": ["arn:aws:s3:::${lake_bucket}/*"]
    }
  ]
}
JSON
# the root key reaches mc through its environment, not its command line
MC_HOST_stack="http://${MINIO_ROOT_USER}:${MINIO_ROOT_PASSWORD}@minio:9000"
export MC_HOST_stack
mc admin policy create stack storepipe-pipeline "$policy"
mc admin user add stack "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
case "$(mc admin user info stack "$AWS_ACCESS_KEY_ID")" in
  *storepipe-pipeline*) ;;
  *) mc admin policy attach stack storepipe-pipeline --user "$AWS_ACCESS_KEY_ID" ;;
esac
echo "MinIO account $AWS_ACCESS_KEY_ID: policy storepipe-pipeline over buckets $ORDERS_BUCKET and $lake_bucket"
