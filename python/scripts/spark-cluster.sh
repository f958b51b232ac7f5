#!/usr/bin/env bash
# A Spark standalone cluster on the loopback interface: one master and N
# workers (pyspark from PyPI, the machine's Java 17), for the Spark job's
# tests and benchmarks.
#
#   python/scripts/spark-cluster.sh start [WORKERS] [CORES_PER_WORKER] [MEMORY_PER_WORKER]
#       prints the master URL (spark://127.0.0.1:PORT) once every worker registered
#   python/scripts/spark-cluster.sh stop
#
# Env: LANTIAN_SPARK_DIR (pid and log files, default /tmp/lantian-spark-$USER),
# SPARK_MASTER_PORT (default 7177).
set -euo pipefail
DIR=${LANTIAN_SPARK_DIR:-/tmp/lantian-spark-${USER:-root}}
PORT=${SPARK_MASTER_PORT:-7177}
SPARK_HOME=$(python3 -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
export SPARK_HOME SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_DIRS="$DIR/local"
export PYSPARK_PYTHON=${PYSPARK_PYTHON:-$(command -v python3)}

stop() {
  for f in "$DIR"/*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

case "${1:-}" in
start)
  workers=${2:-2} cores=${3:-1} memory=${4:-2g}
  stop
  mkdir -p "$DIR/local"
  url="spark://127.0.0.1:$PORT"
  "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$PORT" --webui-port $((PORT + 1)) >"$DIR/master.log" 2>&1 &
  echo $! >"$DIR/master.pid"
  for i in $(seq 1 "$workers"); do
    "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --cores "$cores" --memory "$memory" --webui-port $((PORT + 1 + i)) \
      --work-dir "$DIR/work-$i" "$url" >"$DIR/worker-$i.log" 2>&1 &
    echo $! >"$DIR/worker-$i.pid"
  done
  # Ready when the master has logged every worker's registration.
  for _ in $(seq 1 120); do
    n=$(grep -c "Registering worker" "$DIR/master.log" 2>/dev/null || true)
    if [ "${n:-0}" -ge "$workers" ]; then
      echo "$url"
      exit 0
    fi
    sleep 0.5
  done
  echo "spark-cluster: $workers worker(s) did not register within 60 s; see $DIR/*.log" >&2
  stop
  exit 1
  ;;
stop) stop ;;
*)
  sed -n '2,13p' "$0" >&2
  exit 2
  ;;
esac
