-- Run once by the postgres image, on the first start with an empty data volume (docker-compose.yml
-- mounts this folder at /docker-entrypoint-initdb.d). It runs as POSTGRES_USER ("bank"), a
-- superuser, connected to POSTGRES_DB ("bank"), which the image has already created: the read side.

-- The command side's database.
CREATE DATABASE ledger OWNER bank;

-- Apicurio Registry's database, with a role of its own: it creates its tables on first start.
CREATE ROLE registry LOGIN PASSWORD 'registry';
CREATE DATABASE registry OWNER registry;
