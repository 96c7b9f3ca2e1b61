-- freeze true only into a table created in the same transaction (db.copy_csv says why)
-- sqlfluff:templater:placeholder:freeze:true
copy {table} ({columns}) from stdin with (format csv, header true, encoding 'utf8', freeze {freeze})
