-- Run by every private MariaDB smz starts (the local stack's, deploy/lib/
-- mariadb.sh, and the tests', tests/harness/mariadb_server.cc) as its
-- --init-file, before it accepts its first connection. mariadb-install-db
-- makes passwordless root accounts for 127.0.0.1, ::1 and the host name;
-- they go, with any anonymous account, so that root is root@localhost only:
-- the socket, in the 0700 data folder. One statement per line.
DELETE FROM mysql.global_priv WHERE (User = 'root' AND Host <> 'localhost') OR User = '';
FLUSH PRIVILEGES;
