-- The example's database: a user the connector logs in as, and a table.
CREATE DATABASE inventory;
CREATE USER 'cdc'@'%' IDENTIFIED BY 'cdc-secret';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'%';
CREATE TABLE inventory.products (
  id INT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  price DECIMAL(10,2),
  added DATETIME(3)
);
INSERT INTO inventory.products VALUES
  (1, 'kettle', 24.90, '2024-03-01 09:00:00.000'),
  (2, 'teapot', 18.50, '2024-03-02 10:30:00.250');
