# Nightly batch scoring of every user against the catalogue.

module "batch_scoring" {
  source             = "./modules/batch_training"
  name               = "recsys-scoring"
  image              = "123456789012.dkr.ecr.us-east-1.amazonaws.com/recsys-batch-predict:1.8.2"
  instance_types     = ["g5.xlarge", "g5.2xlarge"]
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
}

resource "aws_cloudwatch_event_rule" "nightly_scoring" {
  name                = "recsys-nightly-scoring"
  schedule_expression = "cron(30 1 * * ? *)"
}

resource "aws_cloudwatch_event_target" "nightly_scoring" {
  rule     = aws_cloudwatch_event_rule.nightly_scoring.name
  arn      = module.batch_scoring.job_queue_arn
  role_arn = aws_iam_role.events.arn

  batch_target {
    job_definition = "recsys-scoring"
    job_name       = "nightly-scoring"
  }
}
