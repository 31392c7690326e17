-- recommender 0.2.0 -> 0.3.0: upgrade script (ALTER EXTENSION recommender UPDATE TO '0.3.0').
-- Every change to the install script between the two versions is repeated here, so that an
-- upgraded database has the same objects as a fresh install of 0.3.0 (Tests/scenarios/upgrade.sh
-- checks it, upgrading from 0.1.0 through 0.2.0).

\echo Use "ALTER EXTENSION recommender UPDATE TO '0.3.0'" to load this file. \quit

-- The shop's own ids (text, varchar, uuid): the key of each item of a model whose item ids are keys.
ALTER TABLE recommender.model_item ADD COLUMN item_key text;
