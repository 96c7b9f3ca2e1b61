copy {table} ({columns}) from stdin with (format csv, header true, encoding 'utf8')
