# Sourced by ./build, ./kdrec and .ci/run: finds a JDK >= 25 and exports JAVA_HOME, or explains how
# to get one. Order: $JAVA_HOME, then the usual JVM folders, then `java` on the PATH.
kdrec_java_major() {  # prints the feature version of the JDK at $1, or nothing
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
kdrec_find_jdk() {
  local c v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/jdk* "$HOME"/.sdkman/candidates/java/* \
           "$(dirname "$(dirname "$(readlink -f "$(command -v javac 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$c" ] && [ -d "$c" ] || continue
    v=$(kdrec_java_major "$c")
    if [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null; then export JAVA_HOME="$c"; return 0; fi
  done
  cat >&2 <<MSG
kdrec: no JDK 25 or newer found (looked at \$JAVA_HOME, /usr/lib/jvm/*, /opt/java/*, /opt/jdk*, /usr/local/jdk*,
~/.sdkman/candidates/java/* and the javac on the PATH).
Install one, e.g. Eclipse Temurin 25:
  Debian/Ubuntu: add the Adoptium apt repository (https://adoptium.net/installation/linux/) and
                 apt-get install temurin-25-jdk
  SDKMAN:        sdk install java 25-tem
then run again, or point JAVA_HOME at it.
MSG
  return 1
}
