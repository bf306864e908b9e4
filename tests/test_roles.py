"""Workload roles and GPU intent come from evidence kept as data; tags override."""
from __future__ import annotations

from mllint.facts.signals import Signals, Trigger
from mllint.roles import classify


def signals(**kwargs) -> Signals:
    return Signals(resource_type=kwargs.pop("resource_type", "aws_lambda_function"), **kwargs)


def test_training_image_and_command_decide_training():
    s = signals(resource_type="aws_ecs_task_definition", names=["recsys"], commands=["python train.py --epochs 10"])
    s.add_image("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311-cu121-ubuntu20.04-ec2")
    facts = classify(s)
    assert facts["role"] == "training"
    assert facts["role_evidence"] == [
        "name says training: pytorch-training",  # the image's repository name reads as a name too
        "AWS Deep Learning Container training image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311-cu121-ubuntu20.04-ec2",
        "command trains a model: python train.py --epochs 10",
    ]
    assert facts["ml"] is True


def test_api_gateway_in_front_outweighs_a_training_name():
    s = signals(names=["train-api-handler"], triggers=[Trigger("api-gateway", "aws_apigatewayv2_integration.x")])
    facts = classify(s)
    assert facts["role"] == "realtime-inference"
    assert "API in front (aws_apigatewayv2_integration.x)" in facts["role_evidence"]


def test_explicit_tag_wins_and_none_opts_out():
    s = signals(names=["train-model"], commands=["train.handler"], tags={"mllint:workload": "realtime-inference"})
    assert classify(s)["role"] == "realtime-inference"
    assert classify(s)["role_evidence"] == ["tag mllint:workload=realtime-inference"]
    opted_out = classify(signals(names=["train-model"], tags={"mllint:workload": "none"}))
    assert opted_out["role"] == "none" and opted_out["ml"] is False


def test_weak_or_tied_evidence_decides_no_role():
    assert "role" not in classify(signals(names=["train-x"]))  # 2 points: below the threshold
    tied = signals(names=["nightly-etl"], resource_type="aws_batch_job_definition")
    tied.triggers = [Trigger("schedule", "aws_cloudwatch_event_target.t")]
    facts = classify(tied)  # data-processing 2+1+1 = 4 vs training/batch-inference 1+1 = 2: leads by 2
    assert facts["role"] == "data-processing"


def test_gpu_intent_needs_strong_evidence():
    cuda_base = signals()
    cuda_base.add_image("nvidia/cuda:12.2.0-runtime-ubuntu22.04")
    assert classify(cuda_base)["gpu_intent"] is False
    gpu_build = signals()
    gpu_build.add_image("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-gpu-py311-cu121-ubuntu20.04-sagemaker")
    facts = classify(gpu_build)
    assert facts["gpu_intent"] is True
    assert facts["gpu_evidence"][0].startswith("GPU build of an ML framework image: ")
    cpu_build = signals()
    cpu_build.add_image("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-cpu-py311-ubuntu20.04-sagemaker")
    assert classify(cpu_build)["gpu_intent"] is False


def test_device_settings_select_a_gpu_only_with_a_gpu_value():
    assert classify(signals(env={"CUDA_VISIBLE_DEVICES": "0"}))["gpu_intent"] is True
    assert classify(signals(env={"TORCH_DEVICE": "cuda:0"}))["gpu_intent"] is True
    assert classify(signals(env={"CUDA_VISIBLE_DEVICES": "-1"}))["gpu_intent"] is False
    assert classify(signals(env={"CUDA_VISIBLE_DEVICES": ""}))["gpu_intent"] is False
    assert classify(signals(env={"MODEL_NOTES": "GPU"}))["gpu_intent"] is False


def test_gpu_tag_overrides_evidence():
    s = signals(env={"CUDA_VISIBLE_DEVICES": "0"}, tags={"mllint:gpu": "false"})
    assert classify(s)["gpu_intent"] is False
    assert classify(signals(tags={"mllint:gpu": "true"}))["gpu_evidence"] == ["tag mllint:gpu=true"]


def test_cloudformation_logical_ids_read_as_words():
    s = signals(names=["RetrainModelFunction"], commands=["app.fit_handler"])
    facts = classify(s)
    assert facts["role"] == "training"
    assert "name says training: Retrain-Model-Function" in facts["role_evidence"]


def test_code_that_starts_or_watches_training_is_not_training():
    query = signals(names=["QueryTrainingFunction", "mlops-query-training"], commands=["sagemaker_query_training.lambda_handler"])
    assert "role" not in classify(query)
    launcher = signals(names=["TrainLambdaFunction", "MLOps-BIA-TrainModel-x"], commands=["MLOps-BIA-TrainModel.lambda_handler"],
                       env={"SageMakerExecutionRole": "arn:aws:iam::1:role/sm", "ModelArtifactBucket": "b"})
    facts = classify(launcher)
    assert "role" not in facts and facts["ml"] is False
    trainer = signals(names=["train-recommender"], commands=["train.handler"], env={"EPOCHS": "5"})
    assert classify(trainer)["role"] == "training"
