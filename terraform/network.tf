# SSH from the admin's network only; luigid and Metabase listen on the host's 127.0.0.1 and are
# reached through SSH tunnels (make cloud-luigid, make cloud-metabase). Nothing is open to the world.

data "aws_vpc" "default" {
  default = true
}

resource "aws_security_group" "host" {
  name_prefix = "${var.project}-host-"
  description = "storepipe host: SSH from admin_cidr only; egress for packages, images, git and S3"
  vpc_id      = data.aws_vpc.default.id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "ssh_admin" {
  security_group_id = aws_security_group.host.id
  description       = "SSH (and the tunnels to luigid and Metabase) from the admin network"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = var.admin_cidr
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.host.id
  description       = "HTTPS out: container images, the git repository, Python packages, S3"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "http" {
  security_group_id = aws_security_group.host.id
  description       = "HTTP out: the Ubuntu package archive (its packages are signed)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}
