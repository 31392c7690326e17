-- recommender 0.1.0 -> 0.2.0: upgrade script (ALTER EXTENSION recommender UPDATE TO '0.2.0').
-- Every change to the install script between the two versions is repeated here, so that an
-- upgraded database has the same objects as a fresh install of 0.2.0 (Tests check both).

\echo Use "ALTER EXTENSION recommender UPDATE TO '0.2.0'" to load this file. \quit
