"""``python -m tradepulse.cli`` — and the file ``spark-submit`` runs as the driver::

    spark-submit --master yarn --deploy-mode client "$(python -m tradepulse.cli.where)" complexity -w hdfs:///tp -o eci.parquet

(see docs/scale-out.md: under ``spark-submit`` the session takes spark-submit's ``--master`` and ``--conf``)."""

from tradepulse.cli import main

if __name__ == "__main__":
    main()
