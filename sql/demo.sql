-- The quick start, on the built-in sample shop (run by scripts/setup.sh; safe to run again).
\pset footer off
DROP EXTENSION IF EXISTS recommender CASCADE;
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE EXTENSION recommender;

\echo '== 1. the sample shop: products in categories, customers, view/cart/purchase events'
SELECT recommender.create_sample_shop();

\echo '== 2. register the shop''s own tables as model "default"'
SELECT recommender.register('default',
         interactions   => 'shop.events',
         user_column    => 'customer_id',
         item_column    => 'product_id',
         time_column    => 'occurred_at',
         event_column   => 'event_type',
         event_weights  => '{"view": 1, "cart": 3, "purchase": 5}',
         items          => 'shop.products',
         item_id_column => 'product_id',
         category_column => 'category',
         title_column   => 'title');

\echo '== 3. train inside the database'
SELECT * FROM recommender.train('default');

\echo '== 4. customer 42: what they did'
SELECT e.event_type, p.title, p.category
  FROM shop.events e JOIN shop.products p USING (product_id)
 WHERE e.customer_id = 42 ORDER BY e.occurred_at DESC LIMIT 8;

\echo '== 5. SELECT * FROM recommend(42, 10, 0.3)'
SELECT r.rank, r.item_id, p.title, p.category, round(r.score::numeric, 4) AS score, r.for_variety
  FROM recommend(42, 10, 0.3) r JOIN shop.products p ON p.product_id = r.item_id ORDER BY r.rank;

\echo '== 6. why the first one? SELECT * FROM explain(42, <item>)'
SELECT item_id AS top FROM recommend(42, 1, 0) \gset
SELECT role, item_id, title, round(contribution::numeric, 4) AS contribution,
       round(share::numeric, 3) AS share, detail
  FROM explain(42, :top) LIMIT 8;

\echo '== 7. a customer with no history gets popular items'
SELECT r.rank, r.item_id, p.title, r.source
  FROM recommend(-1, 5, 0) r JOIN shop.products p ON p.product_id = r.item_id ORDER BY r.rank;
