-- publication_exists: whether the source's migrations created the capture's publication.
select exists(
    select
    from pg_publication
    where pubname = %(publication)s
) as publication_exists
