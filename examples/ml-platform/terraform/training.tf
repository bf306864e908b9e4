# Weekly retraining of the recommendation model.

resource "aws_ecs_cluster" "ml" {
  name = "recsys-${var.environment}"
}

resource "aws_ecs_task_definition" "trainer" {
  family                   = "recsys-trainer"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "4096"
  memory                   = "16384"
  execution_role_arn       = aws_iam_role.task_execution.arn
  task_role_arn            = aws_iam_role.trainer.arn

  container_definitions = jsonencode([
    {
      name      = "trainer"
      image     = var.trainer_image
      essential = true
      command   = ["python", "train.py", "--epochs", "20", "--data", "s3://recsys-prod-features/weekly/"]
      environment = [
        { name = "MODEL_DIR", value = "s3://recsys-prod-models/" },
        { name = "NUM_EPOCHS", value = "20" },
      ]
      resourceRequirements = [
        { type = "GPU", value = tostring(var.trainer_gpus) }
      ]
    }
  ])
}

resource "aws_cloudwatch_event_rule" "weekly_training" {
  name                = "recsys-weekly-training"
  schedule_expression = "cron(0 3 ? * MON *)"
}

resource "aws_iam_role" "events" {
  name = "recsys-${var.environment}-events"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "events.amazonaws.com" } }]
  })
}

resource "aws_cloudwatch_event_target" "weekly_training" {
  rule     = aws_cloudwatch_event_rule.weekly_training.name
  arn      = aws_ecs_cluster.ml.arn
  role_arn = aws_iam_role.events.arn

  ecs_target {
    task_definition_arn = aws_ecs_task_definition.trainer.arn
    launch_type         = "FARGATE"
    network_configuration {
      subnets         = var.subnet_ids
      security_groups = var.security_group_ids
    }
  }
}
