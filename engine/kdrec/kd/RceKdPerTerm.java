package kdrec.kd;

import kdrec.autograd.Arith;
import kdrec.autograd.CrossEntropy;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.model.Recommender;
import kdrec.tensor.IndexSets;

/**
 * RCE-KD's loss with a student pass per scoring call ({@code kd_encoding=per_term}, an HSTU student),
 * as the code's get_loss: SK scored by term 0 (logit_S_itemS), the teacher's top-K by term 1
 * (logit_S_itemT), the drawn positions P by term 2 (logit_S_interesting). CE_SK is a soft CE over SK on
 * term 0's logits; CE_J2 one over P ∪ (QT \ (P ∪ SK)) whose P entries (J2's first L: the epoch's list
 * puts them there) come from term 2 and the rest from term 1; each with the teacher's softmax over the
 * same set, weighted (1-w) and w per row times the user's count. With different user rows per set an
 * item in SK ∩ P has two logits, so the fused pair CE (one dot per item) cannot serve; this composition
 * of tested ops does.
 */
final class RceKdPerTerm {
    private RceKdPerTerm() {}

    static Var loss(Tape tape, RceKdEpoch ep, BatchUsers bu, int l, float tau, StudentPasses passes) {
        int nu = bu.size();
        int[] us = bu.users(), skPtr = new int[nu + 1], j2Ptr = new int[nu + 1], pCount = new int[nu];
        float[] wSk = new float[nu], wJ2 = new float[nu];
        for (int r = 0; r < nu; r++) {
            int u = us[r];
            skPtr[r + 1] = skPtr[r] + ep.a[u];
            j2Ptr[r + 1] = j2Ptr[r] + ep.ptr[u + 1] - ep.ptr[u] - ep.b[u];
            pCount[r] = Math.min(l, j2Ptr[r + 1] - j2Ptr[r]);
            wSk[r] = ep.wA[u] * bu.counts()[r];
            wJ2[r] = ep.wB[u] * bu.counts()[r];
        }
        int[] skIdx = new int[skPtr[nu]], j2Idx = new int[j2Ptr[nu]];
        float[] skTeacher = new float[skIdx.length], j2Teacher = new float[j2Idx.length], logits = ep.teacherLogits();
        for (int r = 0; r < nu; r++) {
            int u = us[r], o = ep.ptr[u];
            System.arraycopy(ep.idx, o, skIdx, skPtr[r], ep.a[u]);
            System.arraycopy(logits, o, skTeacher, skPtr[r], ep.a[u]);
            System.arraycopy(ep.idx, o + ep.b[u], j2Idx, j2Ptr[r], j2Ptr[r + 1] - j2Ptr[r]);
            System.arraycopy(logits, o + ep.b[u], j2Teacher, j2Ptr[r], j2Ptr[r + 1] - j2Ptr[r]);
        }
        IndexSets sk = new IndexSets(skPtr, skIdx), j2 = new IndexSets(j2Ptr, j2Idx);
        Recommender.Embeddings itemS = passes.term(0), itemT = passes.term(1), interesting = passes.term(2);
        Var skLogits = Gather.setDots(tape, Gather.rows(tape, itemS.users(), us), itemS.items(), sk);
        Var j2Logits = TermDots.split(tape, Gather.rows(tape, interesting.users(), us), interesting.items(),
                Gather.rows(tape, itemT.users(), us), itemT.items(), j2, pCount);
        Var ceSk = CrossEntropy.softCeLogits(tape, skLogits, sk, skTeacher, tau);
        Var ceJ2 = CrossEntropy.softCeLogits(tape, j2Logits, j2, j2Teacher, tau);
        return Arith.add(tape, Arith.weightedSum(tape, ceSk, wSk), Arith.weightedSum(tape, ceJ2, wJ2));
    }
}
