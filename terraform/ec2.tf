# One Ubuntu LTS host that installs Docker, checks out a pinned commit or tag of the project and
# starts the compose stack (docker/compose.yaml + compose.aws.yaml) against the two S3 buckets. The
# instance role's credentials reach the host alone (IMDS hop limit 1); the host hands a copy to the
# worker and the generator (docker/aws-host/), never to Metabase or the risk API.

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

# The key pair is generated on your machine by `make infra-up` (ssh-keygen), so the private key is
# never written to the Terraform state; only the public half is uploaded.
resource "aws_key_pair" "admin" {
  key_name_prefix = "${var.project}-"
  public_key      = file("${path.module}/${var.ssh_public_key_path}")
}

resource "aws_instance" "host" {
  #checkov:skip=CKV_AWS_126:detailed (1-minute) monitoring is a paid extra; the 5-minute default is enough for one host
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.instance_type
  key_name               = aws_key_pair.admin.key_name
  vpc_security_group_ids = [aws_security_group.host.id]
  iam_instance_profile   = aws_iam_instance_profile.host.name
  ebs_optimized          = true
  monitoring             = false

  # repo_url and repo_ref go in as single-quoted shell words (local.deploy_source), never as raw text
  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    repo_url      = local.deploy_source.repo_url
    repo_ref      = local.deploy_source.repo_ref
    region        = var.aws_region
    orders_bucket = aws_s3_bucket.orders.bucket
    lake_bucket   = aws_s3_bucket.lake.bucket
    alerts_topic  = aws_sns_topic.alerts.arn
  })

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required" # IMDSv2 only
    # the host alone: a container sits one hop further, so its requests for a token die on the way.
    # The worker gets the role's credentials from the host instead (docker/compose.aws.yaml)
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_gb
    encrypted             = true
    delete_on_termination = true
  }

  tags = {
    Name = "${var.project}-host"
  }
}

# The original project's monthly budget alarm: an e-mail when the month's forecast passes the budget.
resource "aws_budgets_budget" "monthly" {
  name         = "${var.project}-monthly"
  budget_type  = "COST"
  limit_amount = tostring(var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_email_addresses = [var.alert_email]
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 80
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_email_addresses = [var.alert_email]
  }
}
