-- Several models per database; the optional model argument; a retrained model is picked up.
CREATE VIEW shop.purchases AS SELECT customer_id, product_id FROM shop.events WHERE event_type = 'purchase';
SELECT recommender.register('purchases', 'shop.purchases', 'customer_id', 'product_id',
         items => 'shop.products', item_id_column => 'product_id', category_column => 'category');
SELECT lambda, weighting FROM recommender.configure('purchases', lambda => 50, weighting => 'binary');
SET client_min_messages = warning;
SELECT model, users > 1000 AS users_ok FROM recommender.train('purchases');
RESET client_min_messages;
SELECT model, trained FROM recommender.list() ORDER BY 1;
SELECT customer_id AS buyer FROM shop.purchases GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 \gset
-- the model argument selects the model; both give full lists; the lists differ
SELECT (SELECT count(*) FROM recommend(:buyer, 10, 0, 'purchases')) AS n_purchases,
       (SELECT count(*) FROM recommend(:buyer, 10, 0, 'default')) AS n_default,
       (SELECT array_agg(item_id ORDER BY rank) FROM recommend(:buyer, 10, 0, 'purchases'))
         IS DISTINCT FROM (SELECT array_agg(item_id ORDER BY rank) FROM recommend(:buyer, 10, 0)) AS lists_differ;
-- without a model name, "default" is used
SELECT (SELECT array_agg(item_id ORDER BY rank) FROM recommend(:buyer, 10, 0))
     = (SELECT array_agg(item_id ORDER BY rank) FROM recommend(:buyer, 10, 0, 'default')) AS default_used;
-- named arguments
SELECT count(*) FROM recommend(user_id => :buyer, k => 3, model => 'purchases');
SELECT count(*) > 0 AS explains FROM explain(:buyer, 1, model => 'purchases');
-- without "default" and with several models, the caller must name one
BEGIN;
SELECT recommender.drop('default');
SELECT recommender.register('other', 'shop.events', 'customer_id', 'product_id');
SELECT * FROM recommend(:buyer, 10, 0);
ROLLBACK;
-- retraining makes a new version that the next call uses (the cache notices the version)
SELECT version AS v1 FROM recommender.list() WHERE model = 'purchases' \gset
SELECT lambda FROM recommender.configure('purchases', lambda => 5000);
SET client_min_messages = warning;
SELECT version > :v1 AS newer FROM recommender.train('purchases');
RESET client_min_messages;
SELECT count(*) AS versions_kept FROM recommender.model_version WHERE model = 'purchases';
SELECT count(*) AS n FROM recommend(:buyer, 10, 0, 'purchases');
-- training inside a transaction that rolls back leaves the old version in place
SELECT version AS v2 FROM recommender.list() WHERE model = 'purchases' \gset
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT version > :v2 AS newer FROM recommender.train('purchases');
ROLLBACK;
SELECT version = :v2 AS old_version_kept FROM recommender.list() WHERE model = 'purchases';
SELECT count(*) AS n FROM recommend(:buyer, 10, 0, 'purchases');
SELECT recommender.drop('purchases');
SELECT model FROM recommender.list() ORDER BY 1;
DROP VIEW shop.purchases;
