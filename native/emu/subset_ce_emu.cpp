// native/emu/subset_ce_emu.cpp — runs subset_ce.cu and pair_ce.cu
// on the emulator against double references from SubsetCeScalar / PairCeScalar: gatherDot,
// gatherDotBackward (du only / di only / both; di by atomics with repeated items; and its rows form),
// the dots also bit for bit against SubsetCeScalar.dot's float sequence (and their rows form), softCe
// (fused dots, and its rows form;
// with/without rowScale and studentLogits, tau 1 and 0.1), softCeLogits (grad aliasing student, as the
// kernel allows), pair targets and pair softCe (a = 0, b = n, overlapping sets, gu or not; and the rows
// form, users by id from a larger table, both gradients accumulated), and the
// soft-label BCE (CD; saturated logits). Rows: empty,
// 1, 31, 32, 33, 70 entries (several 32-entry chunks); ptr[0] != 0; d around 32; padded lds; launch
// shape as GpuCeArgs (blocks of 256 = 8 warps, warpGrid(m) capped) so warps grid-stride over rows.
//   g++ -std=c++20 -O2 -pthread -ffp-contract=off -Inative -o /tmp/subset_ce_emu native/emu/subset_ce_emu.cpp
#include "cuda_shim.h"
#include "../subset_ce.cu"
#include "../pair_ce.cu"
#include "harness.h"

static h::Out vecOut(long long n, float init) { h::Out o(2, 1, n, n); for (long long i = 0; i < n; i++) o.at(0, i) = init; return o; }
// An output's values as a reference (row r, column c at r * d + c), for bit-for-bit comparisons of two runs.
static std::vector<double> asRef(h::Out& o) {
  std::vector<double> v((size_t)std::max(o.rows, 1LL) * o.d);
  for (long long r = 0; r < o.rows; r++) for (long long c = 0; c < o.d; c++) v[(size_t)(r * o.d + c)] = o.at(r, c);
  return v;
}
static void L(int m, const std::function<void()>& body) {
  launch(dim3((unsigned)std::min<long long>((m + 7) / 8, h::grid_cap())), dim3(256), 0, body);
}

// The rows forms' user table: m + 2 rows of ld, row perm[r] = m + 1 - r holding U's row r (rows 0 and 1,
// and every padding, left SENT).
static std::vector<float> permutedTable(int m, int d, int ld, const float* U, std::vector<int>& perm) {
  perm.assign(m, 0);
  std::vector<float> T((size_t)(m + 2) * ld, h::SENT);
  for (int r = 0; r < m; r++) {
    perm[r] = m + 1 - r;
    for (int k = 0; k < d; k++) T[(size_t)perm[r] * ld + k] = U[(long long)r * ld + k];
  }
  return T;
}

// packed: lds = d and 16-byte aligned tables (d % 4 == 0), the dots' float4 path; else padded lds and
// tables one float past an aligned start, the scalar path.
static void run(int m, int d, float tau, bool quick, bool packed = false) {
  char tag[80];
  snprintf(tag, sizeof tag, "m=%d d=%d tau=%g%s", m, d, tau, packed ? " packed" : "");
  static const int lens[] = {0, 1, 31, 32, 33, 70, 5, 290, 64};  // 290: past pair_ce.cu's 256-entry registers path
  std::vector<int> ptr(m + 1);
  ptr[0] = 3;  // entries start past 0, as a slice of a larger batch
  for (int r = 0; r < m; r++) ptr[r + 1] = ptr[r] + (quick ? lens[r % 9] % 40 : lens[r % 9]);
  const int nnz = ptr[m], nItems = 50, ldu = packed ? d : d + 1, ldi = packed ? d : d + 3;
  std::vector<int> idx(nnz);
  for (int j = ptr[0]; j < nnz; j++) idx[j] = h::randint(0, nItems - 1);
  std::vector<float> U = h::randn((long long)(m > 0 ? m - 1 : 0) * ldu + d + 1), I = h::randn((long long)(nItems - 1) * ldi + d + 1);
  std::vector<float> teacher = h::randn(nnz, 3.f), rowScale = h::randn(m);
  const float* Up = U.data() + (packed ? 0 : 1); const float* Ip = I.data() + (packed ? 0 : 1);
  auto dot = [&](int r, int j) { double s = 0; for (int k = 0; k < d; k++) s += (double)Up[(long long)r * ldu + k] * Ip[(long long)idx[j] * ldi + k]; return s; };
  // gatherDot
  {
    h::Out out = vecOut(nnz, h::SENT);
    std::vector<double> ref(nnz);
    for (int j = 0; j < nnz; j++) ref[j] = h::SENT;
    for (int r = 0; r < m; r++) for (int j = ptr[r]; j < ptr[r + 1]; j++) ref[j] = dot(r, j);
    L(m, [&] { kdrec_subset_ce_gather_dot(m, d, Up, ldu, Ip, ldi, ptr.data(), idx.data(), out.p()); });
    h::check(std::string("gatherDot     ") + tag, out, ref);
    // and bit for bit SubsetCeScalar.dot's float sequence (acc += a * b, k in order)
    for (int r = 0; r < m; r++)
      for (int j = ptr[r]; j < ptr[r + 1]; j++) {
        float acc = 0.f;
        for (int k = 0; k < d; k++) acc += Up[(long long)r * ldu + k] * Ip[(long long)idx[j] * ldi + k];
        ref[j] = acc;
      }
    h::check(std::string("gatherDot bits ") + tag, out, ref, 0);
    // the rows form: users read by id from a permuted table, the same bits
    std::vector<int> perm;
    std::vector<float> T = permutedTable(m, d, ldu, Up, perm);
    h::Out rows = vecOut(nnz, h::SENT);
    L(m, [&] { kdrec_subset_ce_gather_dot_rows(m, d, perm.data(), T.data(), ldu, Ip, ldi, ptr.data(), idx.data(), rows.p()); });
    h::check(std::string("gatherDotRows bits ") + tag, rows, ref, 0);
  }
  // gatherDotBackward
  std::vector<float> g = h::randn(nnz);
  for (int mode = 1; mode < 4; mode++) {
    const int lddu = d + 2, lddi = d + 4;
    h::Out du(1, std::max(m, 1), d, lddu), di(3, nItems, d, lddi);
    std::vector<double> rdu((size_t)std::max(m, 1) * d), rdi((size_t)nItems * d);
    for (long long r = 0; r < du.rows; r++) for (int k = 0; k < d; k++) du.at(r, k) = rdu[r * d + k] = 0.1f * k;
    for (int r = 0; r < nItems; r++) for (int k = 0; k < d; k++) di.at(r, k) = rdi[(size_t)r * d + k] = -0.05f * r;
    for (int r = 0; r < m; r++)
      for (int j = ptr[r]; j < ptr[r + 1]; j++)
        for (int k = 0; k < d; k++) {
          if (mode & 1) rdu[(size_t)r * d + k] += (double)g[j] * Ip[(long long)idx[j] * ldi + k];
          if (mode & 2) rdi[(size_t)idx[j] * d + k] += (double)g[j] * Up[(long long)r * ldu + k];
        }
    L(m, [&] {
      kdrec_subset_ce_gather_dot_backward(m, d, Up, ldu, Ip, ldi, ptr.data(), idx.data(), g.data(),
                                          (mode & 1) ? du.p() : g.data(), lddu, mode & 1, (mode & 2) ? di.p() : g.data(), lddi, mode >> 1);
    });
    h::check(std::string("dotBackward du mode=") + std::to_string(mode) + " " + tag, du, rdu);
    h::check(std::string("dotBackward di mode=") + std::to_string(mode) + " " + tag, di, rdi);
    if (mode & 1) {  // du's float order: each column's fmas in entry order from 0, then one add into du
      std::vector<double> bits(rdu.size());
      for (long long r = 0; r < du.rows; r++)
        for (int k = 0; k < d; k++) {
          float acc = 0.f;
          if (r < m)
            for (int j = ptr[r]; j < ptr[r + 1]; j++) acc = std::fmaf(g[j], Ip[(long long)idx[j] * ldi + k], acc);
          bits[(size_t)r * d + k] = r < m && ptr[r + 1] > ptr[r] ? (float)(0.1f * k) + acc : (float)(0.1f * k);
        }
      h::check(std::string("dotBackward du bits mode=") + std::to_string(mode) + " " + tag, du, bits, 0);
    }
  }
  // the rows form: row r is row perm[r] = m + 1 - r of an (m + 2)-row user table holding Up's rows, and of
  // the user gradient table (rows 0 and 1 untouched); both gradients accumulate
  if (m > 0) {
    const int rowsT = m + 2, ldg = d + 2;
    std::vector<int> perm;
    std::vector<float> T = permutedTable(m, d, ldu, Up, perm);
    h::Out ug(1, rowsT, d, ldg), ig(3, nItems, d, ldg);
    std::vector<double> rug((size_t)rowsT * d), rig((size_t)nItems * d);
    for (int q = 0; q < rowsT; q++) for (int k = 0; k < d; k++) ug.at(q, k) = rug[(size_t)q * d + k] = 0.2f + 0.01f * q;
    for (int q = 0; q < nItems; q++) for (int k = 0; k < d; k++) ig.at(q, k) = rig[(size_t)q * d + k] = -0.03f * k;
    for (int r = 0; r < m; r++)
      for (int j = ptr[r]; j < ptr[r + 1]; j++)
        for (int k = 0; k < d; k++) {
          rug[(size_t)perm[r] * d + k] += (double)g[j] * Ip[(long long)idx[j] * ldi + k];
          rig[(size_t)idx[j] * d + k] += (double)g[j] * Up[(long long)r * ldu + k];
        }
    L(m, [&] {
      kdrec_subset_ce_gather_dot_backward_rows(m, d, perm.data(), T.data(), ldu, Ip, ldi, ptr.data(), idx.data(), g.data(), ug.p(), ldg,
                                               ig.p(), ldg);
    });
    h::check(std::string("dotBackwardRows user gradient ") + tag, ug, rug);
    h::check(std::string("dotBackwardRows item gradient ") + tag, ig, rig);
  }
  // softCe / softCeLogits reference (SubsetCeScalar.row), from float student logits sf
  auto rowRef = [&](const std::vector<float>& sf, int r, float scale, std::vector<double>& grad) {
    int o = ptr[r], n = ptr[r + 1] - o;
    if (n == 0) return 0.0;
    double ms = -INFINITY, mt = -INFINITY, ss = 0, st = 0, loss = 0;
    for (int j = 0; j < n; j++) { ms = std::max(ms, (double)sf[o + j]); mt = std::max(mt, (double)teacher[o + j]); }
    for (int j = 0; j < n; j++) { ss += std::exp((sf[o + j] - ms) / tau); st += std::exp((teacher[o + j] - mt) / tau); }
    double logSs = std::log(ss);
    for (int j = 0; j < n; j++) {
      double p = std::exp((teacher[o + j] - mt) / tau) / st, logQ = (sf[o + j] - ms) / tau - logSs;
      loss -= p * logQ;
      grad[o + j] = scale * (std::exp(logQ) - p) / tau;
    }
    return loss;
  };
  std::vector<float> sf(nnz, 0.f);
  for (int r = 0; r < m; r++) for (int j = ptr[r]; j < ptr[r + 1]; j++) sf[j] = (float)dot(r, j);
  std::vector<int> fperm;
  const std::vector<float> FT = permutedTable(m, d, ldu, Up, fperm);
  for (int variant = 0; variant < 8; variant++) {  // bit 4: the rows form (users by id from a permuted table)
    const bool hasScale = variant & 1, hasStudent = variant & 2, rowsForm = variant & 4;
    h::Out loss = vecOut(m, h::SENT), grad = vecOut(nnz, h::SENT), student = vecOut(nnz, h::SENT);
    std::vector<double> rl(m), rg(nnz, h::SENT), rs(nnz, h::SENT);
    for (int r = 0; r < m; r++) rl[r] = rowRef(sf, r, hasScale ? rowScale[r] : 1.f, rg);
    for (int j = ptr[0]; j < nnz; j++) rs[j] = hasStudent ? sf[j] : h::SENT;
    L(m, [&] {
      if (rowsForm)
        kdrec_subset_ce_soft_ce_rows(m, d, fperm.data(), FT.data(), ldu, Ip, ldi, ptr.data(), idx.data(), teacher.data(), tau,
                                     rowScale.data(), hasScale, loss.p(), grad.p(), hasStudent ? student.p() : nullptr, hasStudent);
      else
        kdrec_subset_ce_soft_ce(m, d, Up, ldu, Ip, ldi, ptr.data(), idx.data(), teacher.data(), tau, rowScale.data(), hasScale,
                                loss.p(), grad.p(), hasStudent ? student.p() : nullptr, hasStudent);
    });
    std::string v = std::string(rowsForm ? " rows" : "") + " scale=" + std::to_string(hasScale) + " student=" + std::to_string(hasStudent) + " ";
    h::check("softCe loss" + v + tag, loss, rl);
    h::check("softCe grad" + v + tag, grad, rg);
    h::check("softCe stud" + v + tag, student, rs);
    {  // rows of <= 256 entries run in registers: the same bits as row_dots + row_soft_ce (forced here)
      h::Out lossP = vecOut(m, h::SENT), gradP = vecOut(nnz, h::SENT), studentP = vecOut(nnz, h::SENT);
      L(m, [&] {
        if (rowsForm)
          kdrec_subset_ce::soft_ce<true, false>(m, d, fperm.data(), FT.data(), ldu, Ip, ldi, ptr.data(), idx.data(), teacher.data(),
                                                tau, rowScale.data(), hasScale, lossP.p(), gradP.p(),
                                                hasStudent ? studentP.p() : nullptr, hasStudent);
        else
          kdrec_subset_ce::soft_ce<false, false>(m, d, nullptr, Up, ldu, Ip, ldi, ptr.data(), idx.data(), teacher.data(), tau,
                                                 rowScale.data(), hasScale, lossP.p(), gradP.p(),
                                                 hasStudent ? studentP.p() : nullptr, hasStudent);
      });
      h::check("softCe loss = parked path, bits" + v + tag, loss, asRef(lossP), 0);
      h::check("softCe grad = parked path, bits" + v + tag, grad, asRef(gradP), 0);
      h::check("softCe stud = parked path, bits" + v + tag, student, asRef(studentP), 0);
    }
  }
  {
    // softCeLogits with grad == student (in place)
    h::Out sg = vecOut(nnz, 0.f), loss = vecOut(m, h::SENT);
    for (int j = 0; j < nnz; j++) sg.at(0, j) = j < ptr[0] ? h::SENT : sf[j];
    std::vector<double> rl(m), rg(nnz, h::SENT);
    for (int r = 0; r < m; r++) rl[r] = rowRef(sf, r, rowScale[r], rg);
    L(m, [&] { kdrec_subset_ce_soft_ce_logits(m, ptr.data(), sg.p(), teacher.data(), tau, rowScale.data(), 1, loss.p(), sg.p()); });
    h::check(std::string("softCeLogits loss in-place ") + tag, loss, rl);
    h::check(std::string("softCeLogits grad in-place ") + tag, sg, rg);
  }
  // pair: a[r], b[r] in [0, n]
  std::vector<int> A(m), B(m);
  std::vector<float> wA(m), wB(m);
  for (int r = 0; r < m; r++) {
    int n = ptr[r + 1] - ptr[r];
    A[r] = r % 3 == 0 ? 0 : h::randint(0, n); B[r] = r % 4 == 1 ? n : h::randint(0, n);
    wA[r] = 0.7f; wB[r] = 0.3f + 0.1f * (r % 3);
  }
  std::vector<double> tgt(nnz, h::SENT);
  for (int r = 0; r < m; r++) {
    int o = ptr[r], n = ptr[r + 1] - o;
    auto sm = [&](int from, int to, std::vector<double>& p) {
      p.assign(std::max(0, to - from), 0);
      if (p.empty()) return;
      double mx = -INFINITY, sum = 0;
      for (int j = from; j < to; j++) mx = std::max(mx, teacher[o + j] / (double)tau);
      for (int j = from; j < to; j++) sum += p[j - from] = std::exp(teacher[o + j] / (double)tau - mx);
      for (auto& x : p) x /= sum;
    };
    std::vector<double> pa, pb;
    sm(0, A[r], pa); sm(B[r], n, pb);
    for (int j = 0; j < n; j++) tgt[o + j] = (float)((j < A[r] ? wA[r] * pa[j] : 0) + (j >= B[r] ? wB[r] * pb[j - B[r]] : 0));
  }
  {
    h::Out target = vecOut(nnz, h::SENT);
    L(m, [&] { kdrec_subset_ce_pair_targets(m, ptr.data(), A.data(), B.data(), teacher.data(), tau, wA.data(), wB.data(), target.p()); });
    h::check(std::string("pair targets ") + tag, target, tgt);
  }
  std::vector<float> tf(nnz);
  for (int j = 0; j < nnz; j++) tf[j] = (float)tgt[j];
  for (int hasGu = 0; hasGu < 2; hasGu++) {
    const int ldgu = d + 2;
    h::Out loss = vecOut(m, h::SENT), grad = vecOut(nnz, h::SENT), gu(1, std::max(m, 1), d, ldgu);
    std::vector<double> rl(m), rg(nnz, h::SENT), rgu((size_t)std::max(m, 1) * d, h::SENT);
    for (int r = 0; r < m; r++) {
      int o = ptr[r], n = ptr[r + 1] - o, ar = A[r], br = B[r];
      std::vector<double> s(n), gg(n);
      for (int j = 0; j < n; j++) s[j] = sf[o + j];
      auto lse = [&](int from, int to) {
        if (from >= to) return -(double)INFINITY;
        double mx = -INFINITY, sum = 0;
        for (int j = from; j < to; j++) mx = std::max(mx, s[j] / tau);
        for (int j = from; j < to; j++) sum += std::exp(s[j] / tau - mx);
        return mx + std::log(sum);
      };
      double lseA = lse(0, ar), lseB = lse(br, n), cross = 0;
      double value = (ar > 0 ? wA[r] * lseA : 0) + (br < n ? wB[r] * lseB : 0);
      for (int j = 0; j < n; j++) {
        cross += tf[o + j] * s[j] / tau;
        double q = (j < ar ? wA[r] * std::exp(s[j] / tau - lseA) : 0) + (j >= br ? wB[r] * std::exp(s[j] / tau - lseB) : 0);
        gg[j] = (q - tf[o + j]) / tau;
        rg[o + j] = (float)gg[j];
      }
      rl[r] = value - cross;
      if (hasGu)
        for (int c = 0; c < d; c++) {
          double acc = 0;
          for (int j = 0; j < n; j++) acc += gg[j] * Ip[(long long)idx[o + j] * ldi + c];
          rgu[(size_t)r * d + c] = acc;
        }
    }
    L(m, [&] {
      kdrec_subset_ce_pair_soft_ce(m, d, Up, ldu, Ip, ldi, ptr.data(), idx.data(), A.data(), B.data(), tf.data(), wA.data(),
                                   wB.data(), tau, loss.p(), grad.p(), hasGu ? gu.p() : loss.p(), ldgu, hasGu);
    });
    h::check(std::string("pair softCe loss gu=") + std::to_string(hasGu) + " " + tag, loss, rl);
    h::check(std::string("pair softCe grad gu=") + std::to_string(hasGu) + " " + tag, grad, rg);
    if (hasGu && m > 0) h::check(std::string("pair softCe gu ") + tag, gu, rgu);
    {  // rows of <= 256 entries run in registers: the same bits as the parked-logits path (forced here)
      h::Out lossP = vecOut(m, h::SENT), gradP = vecOut(nnz, h::SENT), guP(1, std::max(m, 1), d, ldgu);
      L(m, [&] {
        kdrec_subset_ce::pair_soft_ce<false, false>(m, d, nullptr, Up, ldu, Ip, ldi, ptr.data(), idx.data(), A.data(), B.data(),
                                                    tf.data(), wA.data(), wB.data(), tau, lossP.p(), gradP.p(),
                                                    hasGu ? guP.p() : lossP.p(), ldgu, hasGu, nullptr, 0);
      });
      h::check(std::string("pair softCe loss = parked path, bits ") + tag, loss, asRef(lossP), 0);
      h::check(std::string("pair softCe grad = parked path, bits ") + tag, grad, asRef(gradP), 0);
      if (hasGu && m > 0) h::check(std::string("pair softCe gu = parked path, bits ") + tag, gu, asRef(guP), 0);
    }
    if (!hasGu || m == 0) continue;
    // the rows form: row r is table row perm[r] = m + 1 - r of a (m + 2)-row user table holding Up's rows;
    // the user gradient gets rgu[r] added at perm[r] (rows 0 and 1 untouched), the item gradient
    // += grad[j] U[r] (both start non-zero: they accumulate)
    const int rowsT = m + 2, ldg = d + 2;
    std::vector<int> perm;
    std::vector<float> T = permutedTable(m, d, ldu, Up, perm);
    h::Out ug(1, rowsT, d, ldg), ig(3, nItems, d, ldg), loss2 = vecOut(m, h::SENT), grad2 = vecOut(nnz, h::SENT);
    std::vector<double> rug((size_t)rowsT * d), rig((size_t)nItems * d);
    for (int q = 0; q < rowsT; q++) for (int k = 0; k < d; k++) ug.at(q, k) = rug[(size_t)q * d + k] = 0.25f - 0.01f * q;
    for (int q = 0; q < nItems; q++) for (int k = 0; k < d; k++) ig.at(q, k) = rig[(size_t)q * d + k] = -0.05f * k;
    for (int r = 0; r < m; r++) {
      for (int k = 0; k < d; k++) rug[(size_t)perm[r] * d + k] += rgu[(size_t)r * d + k];
      for (int j = ptr[r]; j < ptr[r + 1]; j++)
        for (int k = 0; k < d; k++) rig[(size_t)idx[j] * d + k] += rg[j] * Up[(long long)r * ldu + k];
    }
    L(m, [&] {
      kdrec_subset_ce_pair_soft_ce_rows(m, d, perm.data(), T.data(), ldu, Ip, ldi, ptr.data(), idx.data(), A.data(), B.data(), tf.data(),
                                        wA.data(), wB.data(), tau, loss2.p(), grad2.p(), ug.p(), ldg, ig.p(), ldg);
    });
    h::check(std::string("pair softCeRows loss ") + tag, loss2, rl);
    h::check(std::string("pair softCeRows grad ") + tag, grad2, rg);
    h::check(std::string("pair softCeRows user gradient ") + tag, ug, rug);
    h::check(std::string("pair softCeRows item gradient ") + tag, ig, rig);
    {  // the registers path against the parked-logits path, rows form
      h::Out ugP(1, rowsT, d, ldg), igP(3, nItems, d, ldg), lossP = vecOut(m, h::SENT), gradP = vecOut(nnz, h::SENT);
      for (int q = 0; q < rowsT; q++) for (int k = 0; k < d; k++) ugP.at(q, k) = 0.25f - 0.01f * q;
      for (int q = 0; q < nItems; q++) for (int k = 0; k < d; k++) igP.at(q, k) = -0.05f * k;
      L(m, [&] {
        kdrec_subset_ce::pair_soft_ce<true, false>(m, d, perm.data(), T.data(), ldu, Ip, ldi, ptr.data(), idx.data(), A.data(), B.data(),
                                                   tf.data(), wA.data(), wB.data(), tau, lossP.p(), gradP.p(), ugP.p(), ldg, 1, igP.p(), ldg);
      });
      h::check(std::string("pair softCeRows loss = parked path, bits ") + tag, loss2, asRef(lossP), 0);
      h::check(std::string("pair softCeRows grad = parked path, bits ") + tag, grad2, asRef(gradP), 0);
      h::check(std::string("pair softCeRows user gradient = parked path, bits ") + tag, ug, asRef(ugP), 0);
      h::check(std::string("pair softCeRows item gradient ~ parked path ") + tag, ig, asRef(igP));
    }
  }
}

// softBce (CD): per-entry soft-label BCE from given logits against PointwiseLoss.softBce in double; rows
// empty to 70 entries, ptr[0] != 0, saturated logits (|x| = 40: q near eps), rowScale given or not.
static void runBce(int m, bool scaled) {
  char tag[64];
  snprintf(tag, sizeof tag, "m=%d rowScale=%d", m, scaled);
  std::vector<int> ptr(m + 1);
  ptr[0] = 3;
  const int lens[] = {0, 1, 31, 32, 33, 70};
  for (int r = 0; r < m; r++) ptr[r + 1] = ptr[r] + lens[r % 6];
  const int n = ptr[m];
  std::vector<float> x = h::randn(n, 5.f), y(n), scale(m);
  for (int j = 0; j < n; j++) y[j] = std::uniform_real_distribution<float>(0.f, 1.f)(h::rng);
  if (n > 4) { x[3] = 40.f; x[4] = -40.f; }
  for (int r = 0; r < m; r++) scale[r] = 0.5f + r;
  h::Out loss = vecOut(m, h::SENT), grad = vecOut(n, h::SENT);
  std::vector<double> rl(m, 0.0), rg(n, 0.0);
  const double e = (double)1e-10f;
  auto sig = [](double v) { return v >= 0 ? 1.0 / (1.0 + std::exp(-v)) : std::exp(v) / (1.0 + std::exp(v)); };
  for (int r = 0; r < m; r++)
    for (int j = ptr[r]; j < ptr[r + 1]; j++) {
      const double p = sig(x[j]), q = sig(-x[j]), yy = y[j];
      rl[r] += (float)-(yy * std::log(p + e) + (1 - yy) * std::log(q + e));
      rg[j] = (scaled ? scale[r] : 1.f) * (float)(-p * q * (yy / (p + e) - (1 - yy) / (q + e)));
    }
  for (int j = 0; j < ptr[0]; j++) rg[j] = h::SENT;  // entries before ptr[0] are not a row's
  for (int j = 0; j < ptr[0]; j++) grad.at(0, j) = h::SENT;
  L(m, [&] { kdrec_subset_ce_soft_bce(m, ptr.data(), x.data(), y.data(), 1e-10f, scale.data(), scaled, loss.p(), grad.p()); });
  h::check(std::string("softBce loss ") + tag, loss, rl, 1e-6);
  h::check(std::string("softBce grad ") + tag, grad, rg, 1e-6);
}

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "quick";
  for (int m : quick ? std::vector<int>{0, 3, 10} : std::vector<int>{0, 1, 40})  // 40 rows: 5 warps x 8 blocks of 3-capped grid loop
    for (int d : quick ? std::vector<int>{5, 33} : std::vector<int>{1, 32, 33, 70})
      for (float tau : {1.f, 0.1f}) run(m, d, tau, quick);
  for (int m : quick ? std::vector<int>{3} : std::vector<int>{1, 40})
    for (int d : quick ? std::vector<int>{20} : std::vector<int>{4, 20, 64}) run(m, d, 0.1f, quick, true);
  for (int m : quick ? std::vector<int>{0, 7} : std::vector<int>{0, 1, 12, 40})
    for (bool scaled : {false, true}) runBce(m, scaled);
  return h::finish("subset_ce");
}
