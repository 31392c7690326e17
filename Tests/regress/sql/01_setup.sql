-- Install the extension and the built-in sample shop.
CREATE EXTENSION recommender;
SELECT recommender.create_sample_shop();
SELECT count(*) >= 50000 AS enough_events,
       count(DISTINCT customer_id) >= 2500 AS enough_customers,
       count(DISTINCT product_id) >= 900 AS enough_products
  FROM shop.events;
-- recommend and explain resolve unqualified, from the extension's schema
SELECT p.proname, n.nspname, p.provolatile
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.proname IN ('recommend', 'explain', 'similar_items') ORDER BY 1;
