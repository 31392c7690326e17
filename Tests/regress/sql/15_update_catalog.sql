-- update() also takes in the products added to the items table since training: they join as
-- content-only items (their content vectors, and beta, computed as training computes them), so a
-- product added a minute ago is recommendable after the next update(), without retraining.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE TABLE shop.ev_cat AS SELECT * FROM shop.events WHERE occurred_at < '2026-10-20';
CREATE INDEX ON shop.ev_cat (customer_id);
CREATE INDEX ON shop.ev_cat (occurred_at);
SELECT count(*) FROM (
  SELECT recommender.register(name, 'shop.ev_cat', 'customer_id', 'product_id', time_column => 'occurred_at',
           event_column => 'event_type', event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
           items => 'shop.products', item_id_column => 'product_id', category_column => 'category', title_column => 'title')
    FROM unnest(ARRAY['cat_inc', 'cat_full']) name) x;
SELECT keep_gram FROM recommender.configure('cat_inc', keep_gram => true);
SELECT model FROM recommender.train('cat_inc');
-- new products: namesakes of the ten best sellers, in the same categories
INSERT INTO shop.products (product_id, title, category, brand, price, in_stock, added_at)
SELECT p.product_id + 90000, p.title || ' (new edition)', p.category, p.brand, p.price, true, now()
  FROM shop.products p
 WHERE p.product_id IN (SELECT product_id FROM shop.ev_cat WHERE event_type = 'purchase'
                         GROUP BY product_id ORDER BY count(*) DESC, product_id LIMIT 10);
-- and the days after the cut
INSERT INTO shop.ev_cat SELECT * FROM shop.events
 WHERE occurred_at >= '2026-10-20' AND product_id IN (SELECT product_id FROM shop.ev_cat);
SELECT count(*) AS new_products_in_model FROM recommender.model_item mi JOIN recommender.model m ON m.name = mi.model AND m.version = mi.version
 WHERE m.name = 'cat_inc' AND mi.item_id > 90000;
SELECT users > 0 AS folded FROM recommender.update('cat_inc');
SELECT count(*) AS new_products_in_model, bool_and(mi.content IS NOT NULL) AS with_content, bool_and(mi.users = 0) AS without_users,
       bool_and(mi.categories IS NOT NULL AND cardinality(mi.categories) = 1) AS with_category
  FROM recommender.model_item mi JOIN recommender.model m ON m.name = mi.model AND m.version = mi.version
 WHERE m.name = 'cat_inc' AND mi.item_id > 90000;
SELECT (params->>'catalog_items')::int = (SELECT count(*) FROM shop.products) AS whole_catalog,
       (params->>'content_beta')::float8 > 0 AS beta_positive
  FROM recommender.model_version WHERE model = 'cat_inc';
-- the new products reach the lists of the customers who bought their namesakes, by content
SELECT count(*) > 0 AS recommended, bool_and(r.source = 'content') AS by_content
  FROM (SELECT DISTINCT customer_id FROM shop.ev_cat WHERE customer_id % 5 = 0) u,
       LATERAL recommend(u.customer_id, 30, 0, 'cat_inc') r
 WHERE r.item_id > 90000;
-- explain() says so, and its parts add up to the score
SELECT u.customer_id AS cu, r.item_id AS ci, r.score AS cs
  FROM (SELECT DISTINCT customer_id FROM shop.ev_cat WHERE customer_id % 5 = 0 ORDER BY 1) u,
       LATERAL recommend(u.customer_id, 30, 0, 'cat_inc') r
 WHERE r.item_id > 90000 ORDER BY r.rank, u.customer_id LIMIT 1 \gset
SELECT bool_or(detail LIKE '%scored by content similarity%') AS says_content,
       abs(sum(contribution) FILTER (WHERE role = 'because') - :cs) <= 1e-9 * abs(:cs) AS parts_add_up
  FROM explain(:cu, :ci, 'cat_inc');
-- the same model as a full training on the same data and catalog, for every customer's top 30
SELECT model FROM recommender.train('cat_full');
SELECT count(*) > 1000 AS compared,
       max(abs(a.score - b.score) / greatest(abs(b.score), 1e-12)) < 1e-6 AS same_scores,
       bool_and(a.item_id = b.item_id) AS same_items, bool_and(a.source = b.source) AS same_sources
  FROM (SELECT DISTINCT customer_id FROM shop.ev_cat WHERE customer_id % 7 = 0) u,
       LATERAL recommend(u.customer_id, 30, 0, 'cat_inc') a
       JOIN LATERAL recommend(u.customer_id, 30, 0, 'cat_full') b ON b.rank = a.rank;
-- a product removed from the items table since training leaves the content-only part at the next update
DELETE FROM shop.products WHERE product_id = (SELECT min(product_id) FROM shop.products WHERE product_id > 90000);
SELECT count(*) FROM recommender.update('cat_inc');
SELECT count(*) AS new_products_in_model
  FROM recommender.model_item mi JOIN recommender.model m ON m.name = mi.model AND m.version = mi.version
 WHERE m.name = 'cat_inc' AND mi.item_id > 90000;
SELECT recommender.drop('cat_inc'), recommender.drop('cat_full');
DELETE FROM shop.products WHERE product_id > 90000;
DROP TABLE shop.ev_cat;
RESET client_min_messages;
