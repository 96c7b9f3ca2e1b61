# The two buckets: the orders bucket (a source: CSV files by minute) and the lake (an immutable raw
# copy of each window). Both private, encrypted, versioned and reachable over TLS only. The lake is
# write-once by rule, not by convention: a PutObject that does not ask If-None-Match: * is denied (so
# the pipeline's credentials cannot replace a key), every version is locked for lake_retention_days
# (Object Lock, governance mode), and `make infra-down` cannot delete it (no force_destroy).

resource "aws_s3_bucket" "orders" {
  #checkov:skip=CKV_AWS_18:access logs would need a third bucket; CloudTrail data events are the place for an audit trail if one is wanted
  #checkov:skip=CKV_AWS_144:cross-region replication doubles the cost of demo data that the generator can recreate
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) encrypts at rest; a customer-managed KMS key adds a monthly charge for no gain on demo data
  #checkov:skip=CKV2_AWS_62:nothing consumes bucket events; the pipeline lists the window's minute prefixes
  bucket_prefix = "${var.project}-orders-"
  force_destroy = true
}

resource "aws_s3_bucket" "lake" {
  #checkov:skip=CKV_AWS_18:access logs would need a third bucket; CloudTrail data events are the place for an audit trail if one is wanted
  #checkov:skip=CKV_AWS_144:cross-region replication doubles the cost; the lake is rebuilt from the sources if a region is lost
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) encrypts at rest; a customer-managed KMS key adds a monthly charge for no gain on demo data
  #checkov:skip=CKV2_AWS_62:nothing consumes bucket events; the loads read the lake by key
  #checkov:skip=CKV_AWS_143:false positive: object lock is enabled here and configured by aws_s3_bucket_object_lock_configuration.lake
  bucket_prefix = "${var.project}-lake-"
  # the only source a replay could use: destroying it takes emptying it first, by hand (README "Deploy")
  force_destroy       = false
  object_lock_enabled = true
}

resource "aws_s3_bucket_object_lock_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    default_retention {
      # governance: no one deletes or overwrites a locked version, unless an administrator holding
      # s3:BypassGovernanceRetention (not the host's role) says so explicitly
      mode = "GOVERNANCE"
      days = var.lake_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

locals {
  buckets = {
    orders = aws_s3_bucket.orders
    lake   = aws_s3_bucket.lake
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = local.buckets

  bucket = each.value.id

  rule {
    id     = "abort-incomplete-uploads-and-expire-old-versions"
    status = "Enabled"

    filter {}

    # the lake writes by multipart upload; a killed extract leaves parts that nothing will complete
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }

    # the orders bucket's replaced versions go after 30 days; the lake's are never replaced, and
    # Object Lock keeps each version for its retention anyway
    dynamic "noncurrent_version_expiration" {
      for_each = each.key == "orders" ? [30] : []
      content {
        noncurrent_days = noncurrent_version_expiration.value
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # the lake only: a write that would replace an object is refused by S3 itself, whoever asks
  dynamic "statement" {
    for_each = each.key == "lake" ? [each.value.arn] : []
    content {
      sid       = "DenyWritesThatCouldReplace"
      effect    = "Deny"
      actions   = ["s3:PutObject"]
      resources = ["${statement.value}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "Null"
        variable = "s3:if-none-match"
        values   = ["true"]
      }

      # the requests that make an object (PutObject, CompleteMultipartUpload); a multipart upload's
      # first steps carry no condition and publish nothing
      condition {
        test     = "Bool"
        variable = "s3:ObjectCreationOperation"
        values   = ["true"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = local.buckets

  bucket = each.value.id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
