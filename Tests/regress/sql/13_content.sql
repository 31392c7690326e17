-- New items: products without interactions at training are scored by content similarity (TF-IDF
-- of title and category here; an embedding column when the shop has one), and explained so.
\set SHOW_CONTEXT never
CREATE TEMP TABLE new_products AS
  SELECT p.product_id, p.category FROM shop.products p
   WHERE NOT EXISTS (SELECT 1 FROM shop.events e WHERE e.product_id = p.product_id);
SELECT count(*) > 0 AS some_new_products FROM new_products;
-- every product of the items table is in the catalog; the new ones have content but no users
SELECT count(*) = (SELECT count(*) FROM shop.products) AS whole_catalog,
       bool_and(mi.content IS NOT NULL) AS all_have_content,
       bool_and(mi.users = 0) FILTER (WHERE mi.item_id IN (SELECT product_id FROM new_products)) AS new_have_no_users
  FROM recommender.model_item mi JOIN recommender.model m ON m.name = mi.model AND m.version = mi.version
 WHERE m.name = 'default';
SELECT params->>'content' AS content, (params->>'content_beta')::float8 > 0 AS beta_positive
  FROM recommender.model_version WHERE model = 'default';
-- a customer devoted to the category of a new product: the new products of that category come
-- first among the new ones
ALTER TABLE shop.products ADD COLUMN is_new boolean;
UPDATE shop.products p SET is_new = EXISTS (SELECT 1 FROM new_products n WHERE n.product_id = p.product_id);
SELECT category AS cat FROM new_products GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 \gset
SELECT e.customer_id AS fan FROM shop.events e JOIN shop.products p USING (product_id)
 GROUP BY 1 ORDER BY sum((p.category = :'cat')::int)::float8 / count(*) DESC, count(*) DESC, 1 LIMIT 1 \gset
SELECT count(*) AS n, bool_and(r.source = 'content') AS by_content,
       bool_and(p.category = :'cat') FILTER (WHERE r.rank = 1) AS first_in_fans_category
  FROM recommend(:fan, 5, 0, filter => 'is_new') r JOIN shop.products p ON p.product_id = r.item_id;
SELECT item_id AS newtop FROM recommend(:fan, 1, 0, filter => 'is_new') \gset
-- the explanation: exact parts, content named as the driver
SELECT role, detail LIKE 'recommendable: rank % the item had no interactions when the model was trained, so it is scored by content similarity%' AS says_content
  FROM explain(:fan, :newtop) WHERE role = 'score';
SELECT abs(sum(contribution) FILTER (WHERE role = 'because') - max(contribution) FILTER (WHERE role = 'score'))
         <= 1e-9 * abs(max(contribution) FILTER (WHERE role = 'score')) AS parts_add_up,
       bool_or(detail LIKE '%is similar in description to%') AS similar_in_description
  FROM explain(:fan, :newtop);
-- similar_items works for a new product
SELECT count(*) AS n FROM similar_items(:newtop, 3);
-- read-your-writes with a new product in the history
SELECT customer_id AS cold FROM shop.customers c
 WHERE NOT EXISTS (SELECT 1 FROM shop.events e WHERE e.customer_id = c.customer_id) ORDER BY 1 LIMIT 1 \gset
BEGIN;
INSERT INTO shop.events (customer_id, product_id, event_type, occurred_at) VALUES (:cold, :newtop, 'purchase', now());
SELECT count(*) AS n, bool_and(item_id <> :newtop) AS leaves_it_out, bool_or(source <> 'popular') AS personal
  FROM recommend(:cold, 5, 0);
ROLLBACK;
-- without content vectors, the new products are out of reach
SET client_min_messages = warning;
SELECT content FROM recommender.configure('default', content => 'off');
SELECT 1 AS trained FROM recommender.train('default');
SELECT count(*) AS n FROM recommend(:fan, 5, 0, filter => 'is_new');
SELECT role, detail LIKE 'not recommendable: item % is not in model%' AS not_in_model FROM explain(:fan, :newtop) WHERE role = 'score';
SELECT content FROM recommender.configure('default', content => 'auto');
SELECT 1 AS trained FROM recommender.train('default');
RESET client_min_messages;
ALTER TABLE shop.products DROP COLUMN is_new;

-- an embedding column (real[]) instead of TF-IDF: here a one-hot of the category, standing in
-- for a text or image model's output
CREATE TABLE shop.product_vectors AS
  SELECT p.product_id, p.product_id IN (SELECT product_id FROM new_products) AS is_new,
         ARRAY(SELECT CASE WHEN c.category = p.category THEN 1.0 ELSE 0.0 END::real
                 FROM (SELECT DISTINCT category FROM shop.products ORDER BY 1) c) AS embedding
    FROM shop.products p;
SELECT recommender.register('emb', 'shop.events', 'customer_id', 'product_id',
         event_column => 'event_type', event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'shop.product_vectors', item_id_column => 'product_id', embedding_column => 'embedding');
SET client_min_messages = warning;
SELECT model FROM recommender.train('emb');
RESET client_min_messages;
SELECT params->>'content' AS content, (params->>'content_dims')::int AS dims FROM recommender.model_version WHERE model = 'emb';
SELECT count(*) AS n, bool_and(r.source = 'content') AS by_content, bool_and(p.category = :'cat') AS fans_category
  FROM recommend(:fan, 2, 0, model => 'emb', filter => 'is_new') r JOIN shop.products p ON p.product_id = r.item_id;
-- bad embeddings
SET client_min_messages = warning;
UPDATE shop.product_vectors SET embedding = ARRAY[1, 2]::real[] WHERE product_id = 1;
SELECT * FROM recommender.train('emb');
UPDATE shop.product_vectors SET embedding = ARRAY[1, 'NaN']::real[] || embedding[3:] WHERE product_id = 1;
SELECT * FROM recommender.train('emb');
RESET client_min_messages;
SELECT recommender.register('emb2', 'shop.events', 'customer_id', 'product_id',
         items => 'shop.products', item_id_column => 'product_id', embedding_column => 'title');
SELECT * FROM recommender.configure('default', content => 'sometimes');
SELECT * FROM recommender.configure('default', content_prior => -1);
SELECT recommender.drop('emb');
DROP TABLE shop.product_vectors;
