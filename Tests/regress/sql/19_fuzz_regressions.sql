-- Bugs found by the random-call test (Tests/fuzz/fuzz.py, scenario Tests/scenarios/fuzz.sh), one
-- case each: bad input gets a proper SQLSTATE (never XX000), and the backend survives.
CREATE EXTENSION IF NOT EXISTS recommender;
SELECT pg_backend_pid() AS pid0 \gset
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; m text; h text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
  RETURN s || ': ' || m || COALESCE(' | HINT: ' || NULLIF(h, ''), '');
END $$;
CREATE SCHEMA fzr;

-- 1. A lambda too small for a singular Gram matrix (4 distinct histories over 12 items): the
--    factorisation fails. It was XX000 "Cholesky factorisation failed"; it is bad input (22023
--    with a hint), and the version trained before stays in use.
CREATE TABLE fzr.sing (u bigint, i bigint);
INSERT INTO fzr.sing SELECT u, 1 + (u * 3 + j) % 12 FROM generate_series(1, 15) u, generate_series(1, 5) j;
SELECT recommender.register('fzr_sing', 'fzr.sing', 'u', 'i');
SET client_min_messages = warning;
SELECT model, users, items FROM recommender.train('fzr_sing');
SELECT count(*) AS before FROM recommend(1, 3, 0, 'fzr_sing');
SELECT count(*) FROM recommender.configure('fzr_sing', lambda => 1e-300, weighting => 'binary');
SELECT pg_temp.err($$SELECT * FROM recommender.train('fzr_sing')$$);
SELECT * FROM recommender.train('fzr_sing');
SELECT pg_temp.err($$SELECT * FROM recommender.tune('fzr_sing', 'fzr.sing', 'u', 'i', lambdas => '{1e-300}')$$);
RESET client_min_messages;
SELECT count(*) AS after FROM recommend(1, 3, 0, 'fzr_sing');
SELECT recommender.drop('fzr_sing');

SELECT pg_backend_pid() = :pid0 AS same_backend;
DROP SCHEMA fzr CASCADE;
