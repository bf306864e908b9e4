variable "name" {
  type = string
}

variable "image" {
  type = string
}

variable "instance_types" {
  type = list(string)
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

resource "aws_iam_role" "instance" {
  name = "${var.name}-instance"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_instance_profile" "instance" {
  name = "${var.name}-instance"
  role = aws_iam_role.instance.name
}

resource "aws_batch_compute_environment" "gpu" {
  name = "${var.name}-gpu"
  type = "MANAGED"

  compute_resources {
    type               = "EC2"
    instance_type      = var.instance_types
    min_vcpus          = 0
    max_vcpus          = 256
    instance_role      = aws_iam_instance_profile.instance.arn
    subnets            = var.subnet_ids
    security_group_ids = var.security_group_ids
  }
}

resource "aws_batch_job_queue" "this" {
  name     = var.name
  state    = "ENABLED"
  priority = 1

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.gpu.arn
  }
}

resource "aws_batch_job_definition" "this" {
  name = var.name
  type = "container"

  container_properties = jsonencode({
    image   = var.image
    command = ["python", "batch_predict.py", "--input", "s3://recsys-prod-features/daily/"]
    resourceRequirements = [
      { type = "VCPU", value = "4" },
      { type = "MEMORY", value = "16384" },
      { type = "GPU", value = "1" },
    ]
  })

  retry_strategy {
    attempts = 1
  }
}

output "job_queue_arn" {
  value = aws_batch_job_queue.this.arn
}
