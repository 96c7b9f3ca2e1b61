output "ec2_public_dns" {
  description = "Public DNS name of the host (SSH and the tunnels go here)."
  value       = aws_instance.host.public_dns
}

output "ssh_user" {
  description = "Login user of the Ubuntu AMI."
  value       = "ubuntu"
}

output "ssh_private_key_path" {
  description = "The private key of the generated key pair, on your machine (never in the state)."
  value       = abspath("${path.module}/${trimsuffix(var.ssh_public_key_path, ".pub")}")
}

output "key_pair_name" {
  description = "Name of the EC2 key pair holding the public key."
  value       = aws_key_pair.admin.key_name
}

output "orders_bucket" {
  description = "The orders bucket (ORDERS_BUCKET on the host)."
  value       = aws_s3_bucket.orders.bucket
}

output "lake_url" {
  description = "The lake (LAKE_URL on the host)."
  value       = "s3://${aws_s3_bucket.lake.bucket}/lake"
}

output "ssh_command" {
  description = "Log in to the host."
  value       = "ssh -i ${abspath("${path.module}/${trimsuffix(var.ssh_public_key_path, ".pub")}")} -o IdentitiesOnly=yes ubuntu@${aws_instance.host.public_dns}"
}

output "alerts_topic_arn" {
  description = "The SNS topic failure alerts go to (ALERT_RECEIVER on the host, with ALERT_METHOD=sns)."
  value       = aws_sns_topic.alerts.arn
}
