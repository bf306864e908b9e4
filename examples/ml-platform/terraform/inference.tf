# Real-time recommendations for the mobile app: a small model served from Lambda.

resource "aws_iam_role" "inference" {
  name = "recsys-${var.environment}-inference"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_lambda_function" "recommend" {
  function_name = "recsys-recommend"
  role          = aws_iam_role.inference.arn
  package_type  = "Image"
  image_uri     = "123456789012.dkr.ecr.us-east-1.amazonaws.com/recsys-recommend:2.4.0"
  memory_size   = 2048
  timeout       = 10

  environment {
    variables = {
      MODEL_S3_URI = "s3://recsys-prod-models/latest/model.onnx"
    }
  }
}

resource "aws_apigatewayv2_api" "recsys" {
  name          = "recsys"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "recommend" {
  api_id                 = aws_apigatewayv2_api.recsys.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.recommend.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "recommend" {
  api_id    = aws_apigatewayv2_api.recsys.id
  route_key = "GET /recommendations/{user_id}"
  target    = "integrations/${aws_apigatewayv2_integration.recommend.id}"
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.recommend.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.recsys.execution_arn}/*/*"
}
