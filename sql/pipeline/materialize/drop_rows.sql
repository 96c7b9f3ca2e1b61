-- Several models may be built in one transaction (a window's marts): free the name.
drop table model_rows
