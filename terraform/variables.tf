variable "aws_region" {
  description = "AWS region for every resource (the EC2 host, the two buckets, the instance role)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "The aws_region must be a region name such as us-east-1 or eu-west-3."
  }
}

variable "project" {
  description = "Name prefix for resources and tags; lower case letters, digits and dashes."
  type        = string
  default     = "storepipe"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "The project must be 2-21 characters: lower case letters, digits and dashes, starting with a letter."
  }
}

variable "admin_cidr" {
  description = "The only network allowed to reach the host (SSH, port 22), e.g. your public IP as 203.0.113.7/32."
  type        = string

  validation {
    condition     = can(regex("^[0-9.]+/[0-9]+$", var.admin_cidr)) && can(cidrhost(var.admin_cidr, 0)) && try(tonumber(split("/", var.admin_cidr)[1]) >= 16, false)
    error_message = "The admin_cidr must be an IPv4 CIDR of /16 or narrower (your own address as a.b.c.d/32); 0.0.0.0/0 is refused."
  }
}

variable "instance_type" {
  description = "EC2 instance type; the stack (two PostgreSQL, luigid, a worker, Metabase) wants about 4 GiB of memory."
  type        = string
  default     = "t3.medium"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance_type must look like t3.medium."
  }
}

variable "root_volume_gb" {
  description = "Size of the encrypted root volume in GiB (Docker images, PostgreSQL data, logs)."
  type        = number
  default     = 30

  validation {
    condition     = var.root_volume_gb >= 20 && var.root_volume_gb <= 500
    error_message = "The root_volume_gb must be between 20 and 500."
  }
}

variable "ssh_public_key_path" {
  description = "Public half of the SSH key pair that `make infra-up` generates (ssh-keygen); the private half never leaves your machine."
  type        = string
  default     = ".ssh/storepipe_ec2.pub"

  validation {
    condition     = can(regex("\\.pub$", var.ssh_public_key_path))
    error_message = "The ssh_public_key_path must name a public key file (*.pub)."
  }
}

variable "repo_url" {
  description = "HTTPS URL of the storepipe git repository that the host clones and runs."
  type        = string

  validation {
    # no shell syntax ($, `, quotes, ;, &, |, spaces, ...): the URL reaches a boot script
    condition     = can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/%+-]*)?$", var.repo_url))
    error_message = "The repo_url must be a plain https:// URL (letters, digits and . _ ~ / % + -) the host can clone without credentials."
  }
}

variable "repo_ref" {
  description = "What the host deploys: a release tag (v1.2.0) or a full 40-character commit id; never a branch, which moves."
  type        = string

  validation {
    condition     = can(regex("^([0-9a-f]{40}|v?[0-9]+(\\.[0-9]+){1,2}([-+][0-9A-Za-z.-]+)?)$", var.repo_ref))
    error_message = "The repo_ref must be a version tag such as v1.2.0 or a full 40-character commit id, not a branch name."
  }
}

variable "lake_retention_days" {
  description = "Days each lake object version is locked (S3 Object Lock, governance mode) against deletion and overwrite."
  type        = number
  default     = 90

  validation {
    condition     = var.lake_retention_days >= 1 && var.lake_retention_days <= 3650 && floor(var.lake_retention_days) == var.lake_retention_days
    error_message = "The lake_retention_days must be a whole number of days between 1 and 3650."
  }
}

variable "alert_email" {
  description = "Address that receives the monthly budget alarm."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "The alert_email must be an e-mail address."
  }
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget in USD; an e-mail goes out when the forecast passes it (t3.medium alone is about 30 USD a month)."
  type        = number
  default     = 40

  validation {
    condition     = var.monthly_budget_usd > 0 && var.monthly_budget_usd <= 1000
    error_message = "The monthly_budget_usd must be between 0 and 1000."
  }
}
