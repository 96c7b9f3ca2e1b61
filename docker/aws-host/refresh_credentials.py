"""On the AWS host (never in a container): the instance role's credentials for the services that use S3.

    python3 docker/aws-host/refresh_credentials.py [/run/storepipe-aws]

IMDS answers one hop only (terraform/ec2.tf), so containers cannot reach it; this copies the role's
temporary credentials from IMDSv2 into FOLDER/credentials.json, in the format of an AWS credential
process, with FOLDER/config naming that process. docker/compose.aws.yaml mounts FOLDER into the worker
and the generator alone; boto3 runs the process again before the credentials expire. The folder and
files are root's, readable by the pipeline image's group (gid 10001) and nobody else. Run every two
minutes by storepipe-aws-credentials.timer; standard library only (the host has no storepipe installed).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

IMDS = "http://169.254.169.254/latest"
CONTAINER_GID = 10001  # pipeline.Dockerfile's user and group
CONFIG = "[default]\ncredential_process = /bin/cat /run/storepipe-aws/credentials.json\n"


def imds(path: str, token: str | None = None) -> str:
    """One IMDSv2 request: a PUT for the session token, else a GET with it."""
    if token is None:
        request = urllib.request.Request(
            f"{IMDS}/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}
        )
    else:
        request = urllib.request.Request(f"{IMDS}/{path}", headers={"X-aws-ec2-metadata-token": token})
    # the fixed link-local metadata address, never a URL from input
    with urllib.request.urlopen(request, timeout=5) as response:  # nosec B310
        return response.read().decode()


def credentials() -> dict:
    """The instance role's current credentials, as a credential process prints them."""
    token = imds("", None)
    role = imds("meta-data/iam/security-credentials/", token).split()[0]
    found = json.loads(imds(f"meta-data/iam/security-credentials/{role}", token))
    if found.get("Code") != "Success":
        raise RuntimeError(f"IMDS refused the role's credentials: {found.get('Code')}")
    return {
        "Version": 1,
        "AccessKeyId": found["AccessKeyId"],
        "SecretAccessKey": found["SecretAccessKey"],
        "SessionToken": found["Token"],
        "Expiration": found["Expiration"],
    }


def write(folder: Path, name: str, text: str) -> None:
    """Replace folder/name whole (a reader never sees half a file), mode 0640, group CONTAINER_GID."""
    fd, partial = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(partial, 0o640)
        os.chown(partial, 0, CONTAINER_GID)
        os.replace(partial, folder / name)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def main(argv: list[str]) -> int:
    folder = Path(argv[0] if argv else "/run/storepipe-aws")
    folder.mkdir(mode=0o750, exist_ok=True)
    os.chown(folder, 0, CONTAINER_GID)
    # bandit B103: a folder: the group (the containers' user) needs to enter it; others get nothing
    os.chmod(folder, 0o750)  # nosec B103
    try:
        found = credentials()
    except (OSError, ValueError, KeyError, IndexError, RuntimeError) as err:
        print(f"refresh_credentials: no credentials from IMDS ({err}); is an instance role attached?", file=sys.stderr)
        return 1
    write(folder, "credentials.json", json.dumps(found))
    write(folder, "config", CONFIG)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
