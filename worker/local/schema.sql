-- The existing backend's tables as its Alembic migrations leave them (head b4e2bb95fcb0), per
-- spec/database.md. Only for the local stack and the tests: in AWS the schema belongs to the backend and the
-- worker never migrates anything.

CREATE TYPE predictionstatus AS ENUM ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED');

CREATE TABLE users (
    id varchar(255) PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    clerk_id varchar(255) NOT NULL UNIQUE,
    full_name varchar(100) NOT NULL,
    first_name varchar(100),
    last_name varchar(100),
    avatar_url varchar(500),
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE uploads (
    id serial PRIMARY KEY,
    filename varchar(255) NOT NULL,
    s3_object_key text NOT NULL,
    file_size integer,
    user_id varchar(255) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    upload_time timestamptz NOT NULL,
    status varchar(50) NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX idx_uploads_user_id ON uploads (user_id);

CREATE TABLE predictions (
    id uuid PRIMARY KEY,
    upload_id integer NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    user_id varchar(255) NOT NULL,
    status predictionstatus NOT NULL DEFAULT 'QUEUED',
    s3_output_key varchar(1024),
    rows_processed integer NOT NULL DEFAULT 0,
    metrics_json json,
    error_message text,
    sqs_message_id varchar(255),
    sqs_queued_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_predictions_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
COMMENT ON COLUMN predictions.sqs_message_id IS 'SQS MessageId for tracking';
CREATE INDEX ix_predictions_user_id ON predictions (user_id);
CREATE INDEX idx_predictions_user_id ON predictions (user_id);
CREATE INDEX idx_predictions_created_at ON predictions (created_at);
CREATE INDEX idx_predictions_user_created ON predictions (user_id, created_at);

CREATE TABLE ml_training_data (
    id serial PRIMARY KEY,
    customer_id varchar(100) NOT NULL,
    prediction_id varchar(100),
    features_json json NOT NULL,
    predicted_churn_prob double precision NOT NULL,
    predicted_retention_prob double precision NOT NULL,
    model_type varchar(50) NOT NULL,
    experiment_group varchar(20),
    actual_churned boolean,
    outcome_recorded_at timestamptz,
    days_to_outcome integer,
    predicted_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_ml_training_data_customer_id ON ml_training_data (customer_id);
CREATE INDEX ix_ml_training_data_prediction_id ON ml_training_data (prediction_id);
CREATE INDEX ix_ml_training_data_predicted_at ON ml_training_data (predicted_at);
CREATE INDEX ix_ml_training_data_model_type ON ml_training_data (model_type);
CREATE INDEX ix_ml_training_data_actual_churned ON ml_training_data (actual_churned) WHERE actual_churned IS NOT NULL;

CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('b4e2bb95fcb0');
