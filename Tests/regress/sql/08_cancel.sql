-- Training is cancellable by statement_timeout without harm: the old model stays, the session
-- and the backend go on.
SELECT pg_backend_pid() AS pid0 \gset
CREATE TABLE big (u int, i int);
INSERT INTO big SELECT u, (u * 31 + j * 17) % 3000 FROM generate_series(1, 20000) u, generate_series(1, 40) j;
SELECT recommender.register('big', 'big', 'u', 'i');
SET client_min_messages = warning;
SET statement_timeout = '300ms';
SELECT * FROM recommender.train('big');
RESET statement_timeout;
RESET client_min_messages;
SELECT trained FROM recommender.list() WHERE model = 'big';
SELECT pg_backend_pid() = :pid0 AS same_backend;
SELECT count(*) AS still_answers FROM recommend(1, 3, 0);
SELECT recommender.drop('big');
DROP TABLE big;
