-- reload_config: make a rewritten pg_hba.conf take effect without a restart.
select pg_reload_conf()
