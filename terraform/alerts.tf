# Failure alerts on AWS: the pipeline publishes to this topic through Luigi's own notifications
# (`[email] type = sns`, ALERT_RECEIVER = the topic's ARN; user_data sets both), and the topic
# mails alert_email, who confirms the subscription once from the first mail AWS sends.

resource "aws_sns_topic" "alerts" {
  name_prefix = "${var.project}-alerts-"
  # encrypted at rest with AWS's own key for SNS, which SNS may use without a key policy of ours
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "alerts_email" {
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

data "aws_iam_policy_document" "alerts" {
  statement {
    sid       = "PublishFailureAlerts"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }
}

resource "aws_iam_role_policy" "alerts" {
  name   = "alerts"
  role   = aws_iam_role.host.id
  policy = data.aws_iam_policy_document.alerts.json
}
