;; The mixer's two inner loops in WebAssembly (with 128-bit SIMD), for codecs/wasm-mixer.ts: the
;; same arithmetic as the TypeScript mixer (recorder/media/mixer.ts). Both exist so the bench can
;; measure which is faster (issue 4: "pick what measures faster and say so"): this one, 5–7×, so
;; the render uses it; test/codecs/wasm-mixer.test.ts checks the two give identical samples.
;;
;; Built by `make build` (wat2wasm, Debian's wabt) into dist/codecs/mix.wasm.
;; Memory is the caller's: it lays out Int32 accumulator blocks and Int16 buffers, byte offsets
;; are passed in. Every v128 access may be unaligned (WebAssembly core spec §4.4.7: alignment is
;; a hint only).
(module
  (memory (export "memory") 1)

  ;; acc[k × stride] += src[k] for k < n (Int32 accumulators, Int16 samples): one channel of an
  ;; interleaved block. Stride 1 (mono) and 2 (dual) go four samples at a time; the dual loop
  ;; adds zero to the other channel's lanes, so it may read and rewrite (unchanged) one Int32
  ;; past the last pair: the caller leaves 16 spare bytes after the last block.
  (func (export "add") (param $acc i32) (param $src i32) (param $n i32) (param $stride i32)
    (local $end i32) (local $w v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 1))))
    (if (i32.eq (local.get $stride) (i32.const 1))
      (then
        (block $done
          (loop $four
            (br_if $done (i32.gt_u (i32.add (local.get $src) (i32.const 8)) (local.get $end)))
            (v128.store (local.get $acc)
              (i32x4.add (v128.load (local.get $acc)) (v128.load16x4_s (local.get $src))))
            (local.set $acc (i32.add (local.get $acc) (i32.const 16)))
            (local.set $src (i32.add (local.get $src) (i32.const 8)))
            (br $four)))))
    (if (i32.eq (local.get $stride) (i32.const 2))
      (then
        (block $done
          (loop $four
            (br_if $done (i32.gt_u (i32.add (local.get $src) (i32.const 8)) (local.get $end)))
            (local.set $w (v128.load16x4_s (local.get $src)))
            ;; [s0, 0, s1, 0] and [s2, 0, s3, 0]: byte lanes 16–19 are the zero vector's.
            (v128.store (local.get $acc)
              (i32x4.add (v128.load (local.get $acc))
                (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 16 17 18 19 (local.get $w) (v128.const i32x4 0 0 0 0))))
            (v128.store offset=16 (local.get $acc)
              (i32x4.add (v128.load offset=16 (local.get $acc))
                (i8x16.shuffle 8 9 10 11 16 17 18 19 12 13 14 15 16 17 18 19 (local.get $w) (v128.const i32x4 0 0 0 0))))
            (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
            (local.set $src (i32.add (local.get $src) (i32.const 8)))
            (br $four)))))
    ;; The rest (and any other stride) one sample at a time.
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (i32.store (local.get $acc)
          (i32.add (i32.load (local.get $acc)) (i32.load16_s (local.get $src))))
        (local.set $acc (i32.add (local.get $acc) (i32.shl (local.get $stride) (i32.const 2))))
        (local.set $src (i32.add (local.get $src) (i32.const 2)))
        (br $one))))

  ;; out[i] = acc[i] saturated to Int16, acc[i] = 0, for i < n; returns how many saturated.
  ;; i16x8.narrow_i32x4_s saturates (spec §4.4.3); a lane saturated where widening it back
  ;; differs from the accumulator (the mask is −1 there, so subtracting it counts).
  (func (export "clamp") (param $acc i32) (param $out i32) (param $n i32) (result i32)
    (local $end i32) (local $a v128) (local $b v128) (local $o v128) (local $count v128) (local $v i32) (local $clipped i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 1))))
    (block $done
      (loop $eight
        (br_if $done (i32.gt_u (i32.add (local.get $out) (i32.const 16)) (local.get $end)))
        (local.set $a (v128.load (local.get $acc)))
        (local.set $b (v128.load offset=16 (local.get $acc)))
        (local.set $o (i16x8.narrow_i32x4_s (local.get $a) (local.get $b)))
        (v128.store (local.get $out) (local.get $o))
        (local.set $count (i32x4.sub (local.get $count) (i32x4.ne (local.get $a) (i32x4.extend_low_i16x8_s (local.get $o)))))
        (local.set $count (i32x4.sub (local.get $count) (i32x4.ne (local.get $b) (i32x4.extend_high_i16x8_s (local.get $o)))))
        (v128.store (local.get $acc) (v128.const i32x4 0 0 0 0))
        (v128.store offset=16 (local.get $acc) (v128.const i32x4 0 0 0 0))
        (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $eight)))
    (local.set $clipped
      (i32.add
        (i32.add (i32x4.extract_lane 0 (local.get $count)) (i32x4.extract_lane 1 (local.get $count)))
        (i32.add (i32x4.extract_lane 2 (local.get $count)) (i32x4.extract_lane 3 (local.get $count)))))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $v (i32.load (local.get $acc)))
        (if (i32.gt_s (local.get $v) (i32.const 32767))
          (then (local.set $v (i32.const 32767)) (local.set $clipped (i32.add (local.get $clipped) (i32.const 1))))
          (else
            (if (i32.lt_s (local.get $v) (i32.const -32768))
              (then (local.set $v (i32.const -32768)) (local.set $clipped (i32.add (local.get $clipped) (i32.const 1)))))))
        (i32.store16 (local.get $out) (local.get $v))
        (i32.store (local.get $acc) (i32.const 0))
        (local.set $acc (i32.add (local.get $acc) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 2)))
        (br $one)))
    (local.get $clipped)))
