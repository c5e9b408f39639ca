-- One database per instance, created the first time the PostgreSQL volume is initialised
-- (docker-entrypoint-initdb.d runs only on an empty volume). Owned by POSTGRES_USER.
CREATE DATABASE aura;
CREATE DATABASE idf;
CREATE DATABASE miramap;
