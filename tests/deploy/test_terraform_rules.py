"""The security rules of terraform/, read from every .tf file parsed with python-hcl2."""

from __future__ import annotations

import re

from tests.deploy import files

# what the host may do in S3: object reads and writes in the two buckets, listing them; no delete
ALLOWED_S3_ACTIONS = {
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
}
BUCKETS = ("aws_s3_bucket.orders", "aws_s3_bucket.lake")


def test_every_tf_file_parses_and_declares_something():
    parsed = files.terraform_files()
    assert {"versions.tf", "variables.tf", "outputs.tf", "s3.tf", "iam.tf", "network.tf", "ec2.tf"} <= set(parsed)
    assert all(parsed.values()), [name for name, body in parsed.items() if not body]


def test_no_ingress_from_the_world_and_ssh_only_from_admin_cidr():
    ingress = files.of_type("resource", "aws_vpc_security_group_ingress_rule")
    assert ingress, "the host needs its SSH rule"
    for name, rule in ingress.items():
        assert rule.get("cidr_ipv4") == "${var.admin_cidr}", f"{name} admits {rule.get('cidr_ipv4')}"
        assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 22, 22), name
        assert "cidr_ipv6" not in rule and "referenced_security_group_id" not in rule, name
    for name, group in files.of_type("resource", "aws_security_group").items():
        # inline rules would bypass the per-rule resources checked above
        assert "ingress" not in group and "egress" not in group, f"{name} has inline rules"
    assert not files.of_type("resource", "aws_security_group_rule"), "use the vpc_security_group_*_rule resources"


def test_egress_is_limited_to_web_ports():
    for name, rule in files.of_type("resource", "aws_vpc_security_group_egress_rule").items():
        assert rule["ip_protocol"] == "tcp" and rule["from_port"] == rule["to_port"] in (80, 443), name


def test_buckets_block_public_access_encrypt_and_keep_versions():
    for kind, expected in (
        ("aws_s3_bucket_public_access_block", {a: True for a in _PUBLIC_ACCESS_FLAGS}),
        ("aws_s3_bucket_server_side_encryption_configuration", None),
        ("aws_s3_bucket_versioning", None),
        ("aws_s3_bucket_ownership_controls", None),
        ("aws_s3_bucket_policy", None),
    ):
        found = files.of_type("resource", kind)
        assert len(found) == 1, f"one {kind} over both buckets"
        (body,) = found.values()
        assert body["for_each"] == "${local.buckets}", kind
        if expected:
            assert {k: body.get(k) for k in expected} == expected
    assert _buckets_local() == {"orders": "${aws_s3_bucket.orders}", "lake": "${aws_s3_bucket.lake}"}
    (sse,) = files.of_type("resource", "aws_s3_bucket_server_side_encryption_configuration").values()
    algorithm = sse["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"]
    assert algorithm in ("AES256", "aws:kms", "aws:kms:dsse")
    (versioning,) = files.of_type("resource", "aws_s3_bucket_versioning").values()
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"  # the lake, and the orders too
    (ownership,) = files.of_type("resource", "aws_s3_bucket_ownership_controls").values()
    assert ownership["rule"][0]["object_ownership"] == "BucketOwnerEnforced"  # no ACLs at all


def test_buckets_refuse_plain_http():
    (statement,) = files.blocks("data")["aws_iam_policy_document.tls_only"]["statement"]
    assert statement["effect"] == "Deny"
    assert statement["condition"][0] == {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}


def test_no_bucket_is_public_by_acl_or_website():
    for name, bucket in files.of_type("resource", "aws_s3_bucket").items():
        assert "acl" not in bucket and "website" not in bucket, name
    assert not files.of_type("resource", "aws_s3_bucket_acl")
    assert not files.of_type("resource", "aws_s3_bucket_website_configuration")


def test_host_policy_is_least_privilege():
    documents = files.blocks("data")
    role_policies = files.of_type("resource", "aws_iam_role_policy")
    assert set(role_policies) == {"aws_iam_role_policy.buckets", "aws_iam_role_policy.alerts"}, "inline ones only"
    assert not files.of_type("resource", "aws_iam_role_policy_attachment")
    assert not files.of_type("resource", "aws_iam_policy")
    assert role_policies["aws_iam_role_policy.buckets"]["policy"] == "${data.aws_iam_policy_document.buckets.json}"
    statements = documents["aws_iam_policy_document.buckets"]["statement"]
    granted = set()
    for statement in statements:
        assert statement.get("effect", "Allow") == "Allow"
        actions, resources = statement["actions"], statement["resources"]
        assert set(actions) <= ALLOWED_S3_ACTIONS, f"{statement['sid']}: {set(actions) - ALLOWED_S3_ACTIONS}"
        assert "not_actions" not in statement and "not_resources" not in statement
        for resource in resources:
            assert "*" not in resource.replace(".arn}/*", ""), f"{statement['sid']} grants {resource}"
            assert any(resource.startswith(f"${{{bucket}.arn}}") for bucket in BUCKETS), resource
        object_level = {a for a in actions if a not in ("s3:ListBucket", "s3:GetBucketLocation")}
        # object actions apply to objects (arn/*), bucket actions to the bucket (arn)
        assert all(r.endswith("/*") for r in resources) == bool(object_level), statement["sid"]
        granted |= set(actions)
    assert not any(a.startswith("s3:Delete") for a in granted), "lake objects are immutable"
    assume = documents["aws_iam_policy_document.assume_ec2"]["statement"][0]
    assert assume["principals"][0] == {"type": "Service", "identifiers": ["ec2.amazonaws.com"]}


def test_host_uses_imdsv2_an_encrypted_disk_and_the_instance_role():
    (host,) = files.of_type("resource", "aws_instance").values()
    assert host["metadata_options"][0]["http_tokens"] == "required"
    # the host alone reaches IMDS: the containers are one hop further (tests/deploy/test_least_privilege.py)
    assert host["metadata_options"][0]["http_put_response_hop_limit"] == 1
    assert host["root_block_device"][0]["encrypted"] is True
    assert host["iam_instance_profile"] == "${aws_iam_instance_profile.host.name}"
    assert host["vpc_security_group_ids"] == ["${aws_security_group.host.id}"]
    assert "associate_public_ip_address" not in host or host["associate_public_ip_address"] is not True
    assert "user_data.sh.tftpl" in host["user_data"]


def test_ami_is_a_current_ubuntu_lts_from_canonical():
    ami = files.blocks("data")["aws_ami.ubuntu"]
    assert ami["most_recent"] is True and ami["owners"] == ["099720109477"]
    (name_filter,) = [f for f in ami["filter"] if f["name"] == "name"]
    assert re.fullmatch(
        r"ubuntu/images/hvm-ssd(-gp3)?/ubuntu-[a-z]+-\d\d\.04-amd64-server-\*", name_filter["values"][0]
    )


def test_key_pair_takes_a_public_key_generated_outside_the_state():
    (key,) = files.of_type("resource", "aws_key_pair").values()
    assert key["public_key"].startswith("${file(")
    assert not files.of_type("resource", "tls_private_key"), "a generated private key would sit in the state"


def test_budget_alarm_mails_the_admin():
    (budget,) = files.of_type("resource", "aws_budgets_budget").values()
    assert budget["budget_type"] == "COST" and budget["time_unit"] == "MONTHLY"
    assert all(n["subscriber_email_addresses"] == ["${var.alert_email}"] for n in budget["notification"])


def test_the_host_may_only_publish_to_the_alerts_topic_which_mails_the_admin():
    (policy,) = (p for name, p in files.of_type("resource", "aws_iam_role_policy").items() if name.endswith(".alerts"))
    assert policy["policy"] == "${data.aws_iam_policy_document.alerts.json}"
    (statement,) = files.blocks("data")["aws_iam_policy_document.alerts"]["statement"]
    assert (statement["actions"], statement["resources"]) == (["sns:Publish"], ["${aws_sns_topic.alerts.arn}"])
    (topic,) = files.of_type("resource", "aws_sns_topic").values()
    assert topic["kms_master_key_id"] == "alias/aws/sns"
    (subscription,) = files.of_type("resource", "aws_sns_topic_subscription").values()
    assert (subscription["protocol"], subscription["endpoint"]) == ("email", "${var.alert_email}")
    text = (files.TERRAFORM / "user_data.sh.tftpl").read_text()
    assert "  ALERT_METHOD=sns \\\n" in text and 'ALERT_RECEIVER="${alerts_topic}"' in text


def test_user_data_installs_docker_clones_and_starts_the_stack_without_keys():
    text = (files.TERRAFORM / "user_data.sh.tftpl").read_text()
    assert text.startswith("#!/bin/bash\n") and "set -euo pipefail" in text
    assert "docker.io" in text and "docker-compose-v2" in text
    assert "git -C /opt/storepipe remote add origin ${repo_url}\n" in text
    assert "docker/make_env.py docker/.env" in text
    for setting in ("COMPOSE_PROFILES=", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "S3_ENDPOINT_URL="):
        assert f"  {setting} \\\n" in text, f"{setting} must be empty on AWS (instance role, real S3)"
    assert "docker compose --project-directory docker -f docker/compose.yaml -f docker/compose.aws.yaml up -d" in text
    # every template variable is one that ec2.tf passes in
    (host,) = files.of_type("resource", "aws_instance").values()
    passed = set(re.findall(r"(\w+) = ", host["user_data"]))
    assert set(re.findall(r"\$\{(\w+)\}", text)) <= passed


def test_every_variable_has_a_description_a_type_and_validation():
    variables = files.blocks("variable")
    assert {"admin_cidr", "alert_email", "repo_url", "aws_region"} <= set(variables)
    for name, body in variables.items():
        assert len(body.get("description", "")) > 15, f"{name} needs a description"
        assert "type" in body, f"{name} needs a type"
        assert body.get("validation"), f"{name} needs validation"
        for rule in body["validation"]:
            assert re.match(r"^[A-Z].*[.?]$", rule["error_message"]), f"{name}: a sentence, for terraform >= 1.0"
    assert "default" not in variables["admin_cidr"], "no default: the admin's network must be given"


def test_every_output_has_a_description_and_the_host_and_key_are_there():
    outputs = files.blocks("output")
    assert {"ec2_public_dns", "ssh_private_key_path", "key_pair_name"} <= set(outputs)
    assert all(body.get("description") for body in outputs.values())


def test_checkov_skips_give_a_reason():
    for path in files.TERRAFORM.glob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                assert re.search(r"checkov:skip=CKV2?_[A-Z0-9]+_\d+:.{20,}", line), f"{path.name}: {line.strip()}"


_PUBLIC_ACCESS_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def _buckets_local() -> dict:
    for parsed in files.terraform_files().values():
        for entry in parsed.get("locals", []):
            if "buckets" in entry:
                return entry["buckets"]
    raise AssertionError("no local.buckets")
