#!/bin/bash
# Set up, under DEST, what `make firmware BOARD=esp32 CHIP=c3` needs, from Debian packages and
# public GitHub repositories only (no Espressif toolchain download, which this project's
# machines cannot reach):
#   - Debian's riscv64-unknown-elf-gcc 12.2 + binutils, wrapped as riscv32-esp-elf-* (rv32imc,
#     ilp32; Debian has no rv32imc multilib, so the rv32im/ilp32 libgcc and crt files are used)
#   - espressif/newlib-esp32 (branch esp-4.3.0, the newlib ESP-IDF v5.5 expects), built here
#   - libstdc++ from Debian's gcc-12-source (Debian's cross gcc ships none; nvs_flash is C++)
#   - ESP-IDF v5.5.1 (MicroPython 1.28's recommended version) with the submodules the C3 build
#     reads, each at its pinned commit when that commit can be had, else the stated fallback
#   - ESP-IDF's Python tools (PyPI) in DEST/venv
#   - espressif/esp-protocols' mdns v1.1.0 (the port includes mdns.h; the component manager,
#     which would fetch it, is off)
# then writes DEST/env.sh. Usage:
#   tools/esp32c3_setup.sh DEST [--mirror DIR] [--jobs N] [--check]
#     --mirror DIR  bare repositories as DIR/<owner>+<name>/repo (else cloned from GitHub)
#     --check       build ESP-IDF's hello_world for esp32c3 in DEST/hello (proves the setup)
# Then: . DEST/env.sh && make firmware BOARD=esp32 CHIP=c3 MICROPY_DIR=...
# Each step leaves DEST/.done-STEP; run again to resume. Needs apt-get (lists updated), git,
# gcc, make, cmake, ninja, python3 (venv). docs/boards.md (ESP32) says what differs from
# Espressif's own toolchain and what was never run on a chip.
set -euo pipefail

DEST=""; MIRROR=""; JOBS=2; CHECK=0
while [ $# -gt 0 ]; do
  case $1 in
    --mirror) MIRROR=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) [ -z "$DEST" ] || { echo "one DEST only" >&2; exit 2; }; DEST=$1; shift ;;
  esac
done
[ -n "$DEST" ] || { sed -n '2,23p' "$0" >&2; exit 2; }
mkdir -p "$DEST"; DEST=$(cd "$DEST" && pwd)
TC=$DEST/toolchain
NICE="nice -n 19"
IDF_VERSION=v5.5.1
GCC_DIR=$DEST/root/usr/lib/gcc/riscv64-unknown-elf/12.2.0

say() { echo "== esp32c3_setup: $*"; }
done_() { [ -e "$DEST/.done-$1" ]; }
mark() { touch "$DEST/.done-$1"; }

# repo OWNER/NAME: a bare git directory holding it
repo() {
  local m=$MIRROR/${1/\//+}/repo local_=$DEST/git/${1/\//+}.git
  if [ -n "$MIRROR" ] && [ -d "$m" ]; then echo "$m"; return; fi
  [ -d "$local_" ] || git clone -q --bare "https://github.com/$1" "$local_" >&2
  echo "$local_"
}

# export GITDIR REF OUT [SUBDIR]: the tree at REF (its SUBDIR) into OUT, leaving out files whose
# objects the repository lacks (listed); submodules stay empty directories
export_tree() {
  local g=$1 ref=$2 out=$3 sub=${4:-} idx missing
  idx=$(mktemp); rm -f "$idx"
  GIT_INDEX_FILE=$idx git --git-dir="$g" read-tree "$ref${sub:+:$sub}"
  missing=$(GIT_INDEX_FILE=$idx git --git-dir="$g" ls-files -s | awk '$1 != "160000" {print $2}' |
            git --git-dir="$g" cat-file --batch-check | awk '$2 == "missing" {print $1}')
  if [ -n "$missing" ]; then
    for h in $missing; do
      GIT_INDEX_FILE=$idx git --git-dir="$g" ls-files -s | awk -v h="$h" '$2 == h {print $4}' |
        while read -r p; do
          echo "   (not in the repository's objects, left out: $p)" >&2
          GIT_INDEX_FILE=$idx git --git-dir="$g" update-index --force-remove "$p"
        done
    done
  fi
  mkdir -p "$out"
  GIT_INDEX_FILE=$idx git --git-dir="$g" --work-tree="$out" checkout-index -a -f
  rm -f "$idx"
}

has_commit() { git --git-dir="$1" cat-file -e "$2^{commit}" 2>/dev/null; }

step_debs() {
  say "Debian packages: the RISC-V gcc and binutils, gcc-12 sources, autotools for newlib"
  mkdir -p "$DEST/debs" "$DEST/root" "$DEST/autotools"
  (cd "$DEST/debs" && apt-get download gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf \
    gcc-12-source autoconf2.69 automake m4)
  for d in "$DEST"/debs/gcc-riscv64-*.deb "$DEST"/debs/binutils-riscv64-*.deb; do
    dpkg-deb -x "$d" "$DEST/root"; done
  for d in "$DEST"/debs/autoconf2.69_*.deb "$DEST"/debs/automake_*.deb "$DEST"/debs/m4_*.deb; do
    dpkg-deb -x "$d" "$DEST/autotools"; done
  # the autotools as unpacked look for their files in /usr/share: point them here
  local a=$DEST/autotools
  (cd "$a/usr/bin" && for f in aclocal-1.16 automake-1.16 autoconf2.69 autoheader2.69 \
      autom4te2.69 autoreconf2.69; do
    sed -i "s#/usr/share#$a/usr/share#g; \
      s#'/usr/bin/\(m4\|autom4te2.69\|autoconf2.69\|autoheader2.69\)'#'$a/usr/bin/\1'#g" "$f"
    done
    ln -sf autoconf2.69 autoconf; ln -sf autom4te2.69 autom4te; ln -sf autoheader2.69 autoheader
    ln -sf aclocal-1.16 aclocal; ln -sf automake-1.16 automake)
  sed -i "s#/usr/share#$a/usr/share#g" "$a/usr/share/autoconf2.69/autom4te.cfg"
  sed -i "s#'/usr/share/automake-1.16'#'$a/usr/share/automake-1.16'#" \
    "$a/usr/share/automake-1.16/Automake/Config.pm"
  dpkg-deb -x "$DEST"/debs/gcc-12-source_*.deb "$DEST/debs/gcc12"
  mkdir -p "$DEST/src"
  tar -xf "$DEST"/debs/gcc12/usr/src/gcc-12/gcc-*.tar.xz -C "$DEST/src" --wildcards \
    'gcc-*/libstdc++-v3/*' 'gcc-*/libgcc/*' 'gcc-*/libiberty/*' 'gcc-*/include/*' \
    'gcc-*/config/*' 'gcc-*/config.guess' 'gcc-*/config.sub' 'gcc-*/install-sh' \
    'gcc-*/ltmain.sh' 'gcc-*/config-ml.in' 'gcc-*/missing' 'gcc-*/mkinstalldirs' \
    'gcc-*/move-if-change' 'gcc-*/compile' 'gcc-*/depcomp' 'gcc-*/ltgcc.m4' \
    'gcc-*/libtool.m4' 'gcc-*/multilib.am' 'gcc-*/gcc/BASE-VER' 'gcc-*/gcc/DATESTAMP' \
    'gcc-*/gcc/DEV-PHASE' 'gcc-*/test-driver' 'gcc-*/ar-lib'
  "$DEST/root/usr/bin/riscv64-unknown-elf-gcc" -print-multi-lib | grep -q '^rv32im/ilp32;' || {
    echo "this riscv64-unknown-elf-gcc has no rv32im/ilp32 multilib" >&2; exit 1; }
}

step_wrappers() {
  say "riscv32-esp-elf-* wrappers in $TC/bin"
  mkdir -p "$TC/bin" "$TC/include-fix"
  cat > "$TC/bin/riscv32-esp-elf-gcc" <<'EOF'
#!/bin/sh
# riscv32-esp-elf-gcc stand-in (tools/esp32c3_setup.sh): Debian's riscv64-unknown-elf-gcc 12.2
# for the ESP32-C3 (rv32imc_zicsr_zifencei, ilp32) with newlib-esp32 and libstdc++ built here.
# Debian has no rv32imc multilib: -march=..._zicsr_zifencei selects none, so the rv32im/ilp32
# libgcc and crt files are named here (rv32im code runs on an rv32imc core).
here=$(cd "$(dirname "$0")/.." && pwd)
deb=$here/../root/usr
gcclib=$deb/lib/gcc/riscv64-unknown-elf/12.2.0/rv32im/ilp32
tool=${0##*riscv32-esp-elf-}
march=; mabi=
for a in "$@"; do
  case $a in -march=*) march=1 ;; -mabi=*) mabi=1 ;; esac
done
[ -n "$march" ] || set -- -march=rv32imc_zicsr_zifencei "$@"
[ -n "$mabi" ] || set -- -mabi=ilp32 "$@"
case $tool in
  g++|c++) set -- -isystem "$here/cxx/include/c++/12.2.0" \
             -isystem "$here/cxx/include/c++/12.2.0/riscv32-esp-elf" "$@" ;;
esac
exec "$deb/bin/riscv64-unknown-elf-$tool" "$@" \
  -isystem "$here/include-fix" -idirafter "$here/riscv32-esp-elf/include" \
  -B"$here/riscv32-esp-elf/lib/" -L"$here/riscv32-esp-elf/lib" -L"$here/cxx/lib" \
  -B"$gcclib/" -L"$gcclib"
EOF
  chmod +x "$TC/bin/riscv32-esp-elf-gcc"
  for t in g++ c++ cpp; do ln -sf riscv32-esp-elf-gcc "$TC/bin/riscv32-esp-elf-$t"; done
  for t in ar as ld ld.bfd nm objcopy objdump ranlib readelf size strip addr2line c++filt \
      elfedit strings gcc-ar gcc-nm gcc-ranlib; do
    printf '#!/bin/sh\nexec "$(cd "$(dirname "$0")" && pwd)/../../root/usr/bin/riscv64-unknown-elf-%s" "$@"\n' \
      "$t" > "$TC/bin/riscv32-esp-elf-$t"
    chmod +x "$TC/bin/riscv32-esp-elf-$t"
  done
  # gcc built without a C library has a limits.h that never reaches newlib's (PATH_MAX...)
  cat > "$TC/include-fix/limits.h" <<EOF
/* limits.h as a gcc built with newlib has it (tools/esp32c3_setup.sh) */
#ifndef _SHIMEJI_ESP_LIMITS_H
#define _SHIMEJI_ESP_LIMITS_H
#include_next <limits.h>
#if !defined(_LIBC_LIMITS_H_) && __has_include("$TC/riscv32-esp-elf/include/limits.h")
#include "$TC/riscv32-esp-elf/include/limits.h"
#endif
#endif
EOF
}

step_newlib() {
  say "newlib-esp32 (esp-4.3.0) for rv32imc/ilp32"
  local g src=$DEST/src/newlib-esp32 b=$DEST/build/newlib
  g=$(repo espressif/newlib-esp32)
  rm -rf "$src" "$b"; export_tree "$g" esp-4.3.0 "$src"
  if [ ! -e "$src/newlib/Makefile.in" ]; then
    # newlib/Makefile.in (6 MB, generated) may be missing from a partial copy: remade with
    # automake 1.16 (newlib 4.3 used 1.15.1), whose object names drop the libm_a- prefix
    say "remaking newlib/Makefile.in with autoconf 2.69 + automake 1.16"
    (cd "$src/newlib" && PATH=$DEST/autotools/usr/bin:$PATH &&
      aclocal -I . -I .. -I ../config && autoconf && automake)
    sed -i 's/\blibm_a-/a-/g' "$src/newlib/Makefile.in"
  fi
  mkdir -p "$b"
  (cd "$b" && export PATH=$TC/bin:$PATH &&
    $NICE "$src/configure" --target=riscv32-esp-elf --prefix="$TC" --disable-multilib \
      --enable-newlib-io-long-long --enable-newlib-io-c99-formats --enable-newlib-io-pos-args \
      --disable-newlib-supplied-syscalls --enable-newlib-retargetable-locking \
      --enable-newlib-long-time_t --enable-newlib-nano-malloc --disable-nls \
      CFLAGS_FOR_TARGET="-g -Os -ffunction-sections -fdata-sections" > configure.log &&
    $NICE make -j"$JOBS" MAKEINFO=true all-target-newlib all-target-libgloss > make.log &&
    make MAKEINFO=true install-target-newlib install-target-libgloss > install.log)
  # the "nano" libc (ESP-IDF's CONFIG_LIBC_NEWLIB_NANO_FORMAT, on in MicroPython's
  # sdkconfig.base: --specs=nano.specs links libc_nano.a and libm_nano.a), as
  # Espressif's toolchain builds it beside the full one
  local n=$DEST/build/newlib-nano
  rm -rf "$n"; mkdir -p "$n"
  (cd "$n" && export PATH=$TC/bin:$PATH &&
    $NICE "$src/configure" --target=riscv32-esp-elf --prefix="$n/install" --disable-multilib \
      --enable-newlib-nano-formatted-io --disable-newlib-io-c99-formats --enable-target-optspace \
      --disable-newlib-supplied-syscalls --enable-newlib-retargetable-locking \
      --enable-newlib-long-time_t --enable-newlib-nano-malloc --disable-nls \
      CFLAGS_FOR_TARGET="-g -Os -ffunction-sections -fdata-sections" > configure.log &&
    $NICE make -j"$JOBS" MAKEINFO=true all-target-newlib > make.log &&
    make MAKEINFO=true install-target-newlib > install.log)
  for l in c g m; do
    cp "$n/install/riscv32-esp-elf/lib/lib$l.a" "$TC/riscv32-esp-elf/lib/lib${l}_nano.a"
  done
}

step_libstdcxx() {
  say "libstdc++ (gcc 12.2 sources) for rv32imc/ilp32"
  local b=$DEST/build/libstdcxx
  rm -rf "$b"; mkdir -p "$b"
  # __getreent comes from ESP-IDF: defined as 0 only so configure's link tests can link
  (cd "$b" && export PATH=$TC/bin:$PATH &&
    $NICE "$(echo "$DEST"/src/gcc-12.2.0)/libstdc++-v3/configure" --host=riscv32-esp-elf \
      --target=riscv32-esp-elf --build="$(uname -m)-pc-linux-gnu" --prefix="$TC/cxx" \
      --disable-multilib --disable-shared --enable-static --disable-libstdcxx-pch \
      --disable-nls --with-newlib --disable-libstdcxx-verbose --disable-werror \
      CC=riscv32-esp-elf-gcc CXX=riscv32-esp-elf-g++ AR=riscv32-esp-elf-ar \
      RANLIB=riscv32-esp-elf-ranlib NM=riscv32-esp-elf-nm \
      CFLAGS="-Os -g -ffunction-sections -fdata-sections" \
      CXXFLAGS="-Os -g -ffunction-sections -fdata-sections" \
      LDFLAGS="-Wl,--defsym=__getreent=0" > configure.log &&
    $NICE make -j"$JOBS" > make.log && make install > install.log)
}

# ESP-IDF submodules the esp32c3 build reads: path, repository, fallback ref when the pinned
# commit cannot be had (empty: none; the step fails)
SUBMODULES="
components/heap/tlsf espressif/tlsf idf
components/mbedtls/mbedtls Mbed-TLS/mbedtls v3.6.4
components/lwip/lwip espressif/esp-lwip 2.1.3-esp
components/mqtt/esp-mqtt espressif/esp-mqtt -
components/cmock/CMock ThrowTheSwitch/CMock -
components/unity/unity ThrowTheSwitch/Unity -
components/json/cJSON DaveGamble/cJSON -
components/spiffs/spiffs pellepl/spiffs -
components/protobuf-c/protobuf-c protobuf-c/protobuf-c -
components/bootloader/subproject/components/micro-ecc/micro-ecc kmackay/micro-ecc -
"

step_idf() {
  say "ESP-IDF $IDF_VERSION and its submodules"
  local g idf=$DEST/esp-idf path name fallback pin sub ref
  g=$(repo espressif/esp-idf)
  rm -rf "$idf"
  export_tree "$g" "$IDF_VERSION" "$idf"
  echo "$IDF_VERSION" > "$idf/version.txt"  # no .git: ESP-IDF reads its version here
  : > "$DEST/submodules.txt"
  echo "$SUBMODULES" | while read -r path name fallback; do
    [ -n "$path" ] || continue
    pin=$(git --git-dir="$g" ls-tree "$IDF_VERSION" "$path" | awk '{print $3}')
    sub=$(repo "$name")
    if has_commit "$sub" "$pin"; then ref=$pin
    elif [ "$fallback" != "-" ]; then ref=$fallback
    else echo "$name: the pinned commit $pin is not there" >&2; exit 1
    fi
    rm -rf "${idf:?}/$path"; export_tree "$sub" "$ref" "$idf/$path"
    echo "$path $name $ref (pinned $pin)" | tee -a "$DEST/submodules.txt"
    pin=$(git --git-dir="$sub" ls-tree "$ref" framework | awk '$1 == "160000" {print $3}')
    if [ -n "$pin" ]; then  # Mbed TLS 3.6's own submodule
      export_tree "$(repo Mbed-TLS/mbedtls-framework)" "$pin" "$idf/$path/framework"
    fi
  done
  local mbed=$idf/components/mbedtls/mbedtls
  # upstream Mbed TLS builds itself as strict C99; ESP-IDF's port headers need gnu17
  if grep -q '^set(CMAKE_C_STANDARD 99)' "$mbed/CMakeLists.txt"; then
    sed -i 's/^set(CMAKE_C_EXTENSIONS OFF)$/if(NOT IDF_TARGET)\nset(CMAKE_C_EXTENSIONS OFF)/;
      s/^set(CMAKE_C_STANDARD 99)$/set(CMAKE_C_STANDARD 99)\nendif()/' "$mbed/CMakeLists.txt"
  fi
  local tlsf=$idf/components/heap/tlsf
  if ! grep -q tlsf_find_containing_block "$tlsf/tlsf.c"; then
    # an older espressif/tlsf lacks the one function ESP-IDF v5.5's multi_heap.c adds
    cat >> "$tlsf/tlsf.c" <<'EOF'

/* added by tools/esp32c3_setup.sh (this tlsf predates it): the used block holding ptr */
void* tlsf_find_containing_block(pool_t pool, void *ptr)
{
	block_header_t* block = offset_to_block(pool, -(int)block_header_overhead);
	while (block && !block_is_last(block))
	{
		if (!block_is_free(block))
		{
			char* start = (char*)block_to_ptr(block);
			if ((char*)ptr >= start && (char*)ptr < start + block_size(block))
				return start;
		}
		block = block_next(block);
	}
	return NULL;
}
EOF
    sed -i 's#^int tlsf_check_pool(pool_t pool);#&\nvoid* tlsf_find_containing_block(pool_t pool, void *ptr);#' \
      "$tlsf/include/tlsf.h"
  fi
  local lwip=$idf/components/lwip
  if [ ! -e "$lwip/lwip/src/include/lwip/acd.h" ] &&
      ! grep -q DHCP_CALC_TIMEOUT_FROM_OFFERED_T0_LEASE "$lwip/port/include/lwipopts.h"; then
    # an esp-lwip older than ESP-IDF v5.5's pin: no ACD module (boards/esp32/c3 turns the
    # DHCP address check off) and the DHCP timeout hooks under their older names
    cat >> "$lwip/port/include/lwipopts.h" <<'EOF'

/* tools/esp32c3_setup.sh: the esp-lwip used here predates ESP-IDF v5.5's renamed DHCP timeout
 * hooks; the same timeouts under the names it uses */
#ifndef DHCP_REQUEST_TIMEOUT_SEQUENCE
#define DHCP_REQUEST_TIMEOUT_SEQUENCE(tries) DHCP_REQUEST_BACKOFF_SEQUENCE(0, tries)
#define DHCP_CALC_TIMEOUT_FROM_OFFERED_T0_LEASE(dhcp) \
        timeout_from_offered((dhcp)->offered_t0_lease, 120)
#define DHCP_CALC_TIMEOUT_FROM_OFFERED_T1_RENEW(dhcp) \
        timeout_from_offered((dhcp)->offered_t1_renew, (dhcp)->t0_timeout >> 1)
#define DHCP_CALC_TIMEOUT_FROM_OFFERED_T2_REBIND(dhcp) \
        timeout_from_offered((dhcp)->offered_t2_rebind, ((dhcp)->t0_timeout / 8) * 7)
#endif
EOF
  fi
  mkdir -p "$DEST/components/mdns"
  export_tree "$(repo espressif/esp-protocols)" mdns-v1.1.0 "$DEST/components/mdns" \
    components/mdns
}

step_python() {
  say "ESP-IDF's Python tools (PyPI) in $DEST/venv"
  python3 -m venv "$DEST/venv"
  # esptool 4.x and esp-idf-kconfig 2.5 are the series ESP-IDF v5.5 was released with
  $NICE "$DEST/venv/bin/pip" install -q -r "$DEST/esp-idf/tools/requirements/requirements.core.txt" \
    "esptool~=4.10" "esp-idf-kconfig~=2.5.0"
  # idf.py checks the environment against a constraints file install.sh would download: the
  # versions installed here stand in for it
  mkdir -p "$DEST/idf-tools"
  "$DEST/venv/bin/pip" freeze | grep -v '^-e' > "$DEST/idf-tools/espidf.constraints.v5.5.txt"
}

write_env() {
  # idf.py runs ninja without -j (as many jobs as cores + 2): this one runs ESP_BUILD_JOBS
  local ninja  # the real one, not this wrapper when env.sh was sourced before
  ninja=$(PATH=$(printf %s "$PATH" | tr ':' '\n' | grep -vxF "$DEST/bin" | paste -sd: -) \
    command -v ninja)
  mkdir -p "$DEST/bin"
  printf '#!/bin/sh\n# ninja with ESP_BUILD_JOBS jobs (default 2) unless told (tools/esp32c3_setup.sh)\ncase " $* " in *" -j"*) exec %s "$@" ;; esac\nexec %s -j"${ESP_BUILD_JOBS:-2}" "$@"\n' \
    "$ninja" "$ninja" > "$DEST/bin/ninja"
  chmod +x "$DEST/bin/ninja"
  cat > "$DEST/env.sh" <<EOF
# . $DEST/env.sh: ESP-IDF $IDF_VERSION for the ESP32-C3 with Debian's RISC-V gcc
# (tools/esp32c3_setup.sh); then make firmware BOARD=esp32 CHIP=c3 MICROPY_DIR=...
export IDF_PATH=$DEST/esp-idf
export IDF_PYTHON_ENV_PATH=$DEST/venv
export IDF_TOOLS_PATH=$DEST/idf-tools
export IDF_COMPONENT_MANAGER=0
export SHIMEJI_ESP_EXTRAS=$DEST/components
export PATH=$DEST/bin:$TC/bin:$DEST/venv/bin:$DEST/esp-idf/tools:\$PATH
EOF
}

step_check() {
  say "check: ESP-IDF's hello_world for esp32c3 in $DEST/hello"
  rm -rf "$DEST/hello"; cp -r "$DEST/esp-idf/examples/get-started/hello_world" "$DEST/hello"
  printf 'CONFIG_MBEDTLS_HARDWARE_AES=n\nCONFIG_MBEDTLS_HARDWARE_MPI=n\nCONFIG_MBEDTLS_HARDWARE_SHA=n\nCONFIG_MBEDTLS_HARDWARE_ECC=n\nCONFIG_MBEDTLS_ROM_MD5=n\n' \
    > "$DEST/hello/sdkconfig.defaults"
  (. "$DEST/env.sh" && cd "$DEST/hello" && export ESP_BUILD_JOBS=$JOBS &&
    $NICE idf.py set-target esp32c3 > build.log && $NICE idf.py build >> build.log) ||
    { tail -20 "$DEST/hello/build.log" >&2; exit 1; }
  ls -l "$DEST/hello/build/hello_world.bin"
}

for s in debs wrappers newlib libstdcxx idf python; do
  if done_ "$s"; then say "$s: done before"; else "step_$s"; mark "$s"; fi
done
write_env
[ "$CHECK" = 0 ] || step_check
say "ready: . $DEST/env.sh && make firmware BOARD=esp32 CHIP=c3 MICROPY_DIR=..."
