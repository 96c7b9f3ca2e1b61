# The host's instance role: read and write objects in the two buckets, nothing else. No delete, and
# no replacing a lake object: the lake's bucket policy (s3.tf) refuses a PutObject without
# If-None-Match: *, which storepipe/lake/objects.py sends, and Object Lock keeps every version.

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    sid     = "Ec2AssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "buckets" {
  statement {
    sid     = "ListTheTwoBuckets"
    effect  = "Allow"
    actions = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [
      aws_s3_bucket.orders.arn,
      aws_s3_bucket.lake.arn,
    ]
  }

  statement {
    # the extract reads orders; the data generator (a stand-in for the store) writes them
    sid     = "ReadWriteOrders"
    effect  = "Allow"
    actions = ["s3:GetObject", "s3:PutObject"]
    resources = [
      "${aws_s3_bucket.orders.arn}/*",
    ]
  }

  statement {
    # the lake is written by multipart upload (abort cleans up a failed one) and read back by the loads
    sid     = "ReadWriteLake"
    effect  = "Allow"
    actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = [
      "${aws_s3_bucket.lake.arn}/*",
    ]
  }
}

resource "aws_iam_role" "host" {
  name_prefix        = "${var.project}-host-"
  description        = "storepipe EC2 host: object access to the orders bucket and the lake"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
}

resource "aws_iam_role_policy" "buckets" {
  name   = "buckets"
  role   = aws_iam_role.host.id
  policy = data.aws_iam_policy_document.buckets.json
}

resource "aws_iam_instance_profile" "host" {
  name_prefix = "${var.project}-host-"
  role        = aws_iam_role.host.name
}
