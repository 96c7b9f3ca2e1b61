-- type_name: the SQL name of a column type (for the migration a missing column needs).
select format_type(%(type_oid)s, null) as type_name
