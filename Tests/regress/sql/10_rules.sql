-- The shop's rules in recommend(): seen items, filters (a boolean column or a named predicate),
-- a category to stay within (also for new users), and a cap per category.
\set SHOW_CONTEXT never
SELECT customer_id AS heavy FROM shop.events GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 \gset
-- exclude_seen => false lets items of the history back in
SELECT count(*) > 0 AS seen_items_back
  FROM recommend(:heavy, 100, 0, exclude_seen => false) r
 WHERE EXISTS (SELECT 1 FROM shop.events e WHERE e.customer_id = :heavy AND e.product_id = r.item_id);
-- a boolean column of the items table as a filter
SELECT count(*) AS n, bool_and(p.in_stock) AS all_in_stock
  FROM recommend(:heavy, 20, 0, filter => 'in_stock') r JOIN shop.products p ON p.product_id = r.item_id;
-- a named filter (a predicate over the items table, defined by an admin)
SELECT recommender.add_filter('default', 'cheap', 'in_stock AND price < 30');
SELECT count(*) AS n, bool_and(p.in_stock AND p.price < 30) AS all_pass
  FROM recommend(:heavy, 20, 0.4, filter => 'cheap') r JOIN shop.products p ON p.product_id = r.item_id;
-- filtered lists keep the relevance order of the unfiltered one
SELECT (array_agg(item_id ORDER BY rank))[1:5] = (SELECT (array_agg(r.item_id ORDER BY r.rank))[1:5]
                                                   FROM recommend(:heavy, 400, 0) r JOIN shop.products p ON p.product_id = r.item_id
                                                  WHERE p.in_stock AND p.price < 30) AS same_order
  FROM recommend(:heavy, 5, 0, filter => 'cheap');
-- stay within a category, for a known customer and for a new one
SELECT count(*) AS n, bool_and(p.category = 'Books') AS only_books, bool_and(r.source = 'model') AS personal
  FROM recommend(:heavy, 10, 0.5, category => 'Books') r JOIN shop.products p ON p.product_id = r.item_id;
SELECT count(*) AS n, bool_and(p.category = 'Books') AS only_books, bool_and(r.source = 'popular') AS popular
  FROM recommend(-7, 10, 0, category => 'Books') r JOIN shop.products p ON p.product_id = r.item_id;
-- a cap per category, at every diversity and for the fallback
SELECT d, sum(c) AS n, max(c) <= 2 AS capped
  FROM (SELECT d, p.category, count(*) AS c
          FROM unnest(ARRAY[0, 0.5, 1]::float8[]) d, LATERAL recommend(:heavy, 12, d, max_per_category => 2) r
          JOIN shop.products p ON p.product_id = r.item_id GROUP BY d, p.category) x
 GROUP BY d ORDER BY d;
SELECT sum(c) AS n, max(c) AS most_per_category
  FROM (SELECT p.category, count(*) AS c FROM recommend(-7, 10, 0, max_per_category => 1) r
          JOIN shop.products p ON p.product_id = r.item_id GROUP BY 1) x;
-- rules combine
SELECT count(*) AS n, bool_and(p.in_stock AND p.price < 30 AND p.category = 'Books') AS all_rules
  FROM recommend(:heavy, 5, 0.3, filter => 'cheap', category => 'Books', max_per_category => 5) r
  JOIN shop.products p ON p.product_id = r.item_id;
-- errors
SELECT * FROM recommend(:heavy, 5, 0, filter => 'no_such_filter');
SELECT * FROM recommend(:heavy, 5, 0, category => 'No such category');
SELECT * FROM recommend(:heavy, 5, 0, max_per_category => 0);
SELECT recommender.add_filter('default', 'broken', 'no_such_column > 3');
SELECT recommender.add_filter('default', 'bad name', 'true');
SELECT recommender.drop_filter('default', 'cheap');
SELECT * FROM recommend(:heavy, 5, 0, filter => 'cheap');
SELECT recommender.drop_filter('default', 'cheap');
