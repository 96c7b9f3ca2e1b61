# What the host deploys, as the shell words user_data.sh.tftpl runs: each value single-quoted, with
# any single quote in it closed, escaped and reopened ('\''), so no value is ever read as shell code
# (variables.tf refuses shell's special characters too; this holds even if a rule there loosens).

locals {
  deploy_source = {
    repo_url = "'${replace(var.repo_url, "'", "'\\''")}'"
    repo_ref = "'${replace(var.repo_ref, "'", "'\\''")}'"
  }
}
