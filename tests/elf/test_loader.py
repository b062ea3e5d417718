"""load_elf against sbpf 0.21's own test ELFs (built by the Solana platform tools) and its tests.

The ELFs are sbpf's `tests/elfs/*.so` at tag v0.21.0 (zlib + base85 below). The expected results
come from sbpf's `tests/execution.rs` and `tests/elf.rs`; the Agave strings were checked against
solders' LiteSVM (Agave 4.1.2).
"""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from sbpfunc.elf import LoaderConfig, get_sbpf_version, load_elf
from sbpfunc.elf import loader as L
from sbpfunc.elf import schema as S
from sbpfunc.vm.errors import ElfError, VerifierError
from sbpfunc.vm.executable import ENTRYPOINT_KEY, hash_pc, hash_symbol_name
from sbpfunc.vm.isa import MM_PROGRAM_START, SBPFVersion

SBPF_ELFS = {
    "relative_call_sbpfv0": (
        "c-pO$KX21O7{<@}(-c~Xh@t9)JRv&7u^ro&7KWfUs7RqZERlV=Yuv<6a4uET4zM60v9Q1lE1!TZpNWYvoa5K+*-Baocq"
        "RMid+vSC=l9O{uHAW2P!yC#5mlD07Dz47o2Ba%p*2Nb3*AE%6sMKNr9yt5?@^YUz_>devRX*mc|Jo~roOm)LtNir{5;1"
        "f%T4reF{>u5z?`q(Jzt>z?M}k0Gqi{~{|@<a-eR%%ApE}t=ir-r31eN6#+j=LA5^pBKLV!Z-$2<qZ9#h%SWedn`tL(~8"
        "@ThAb%^KsP~6jfah!J0kVmue$PYQ{_~C#?2WqEtq?)>BXjpyH=X^XlsMk+@-k*9J83lDWymV_9v&;H$cplWo(ddj4u89"
        "PdP}XxSY+=vSP2AhZwoRF9^&D(bY7u5*Y*I|jz1!zmLcbPy{qb_|C^!2PbQkoGO16&6Wh@k~_f;BS*VRGe^nxR;Hw)ds"
        "C(DP)EJ(;B6n}XjYK1hRa@P~=3q5&Ch$1?4xqnW(#2pT`p4Fh9&UD9adW;dLMoy=ij=FD7j7BEYXtHTYxIYTJ6Yi2hH="
        "@kIeQKMH2D2TDdZw)#&Gss*d1IXh!sObHZ85U%=#*ijVYTJ;?H;{8dH(9<A^H!Yz?JUjb>{|J^B-5hTST{?1Erk5Dsc<"
        "WlU3)BF8LM7zbmmQ`P2U`<@Sp2l|uzh&*>fT57zio?n&>K<0puprSC4Un7<*_PL5*`5AT@&(>4B2ApW?+{|9i7o`V"
    ),
    "relative_call": (
        "c-pN}J5Iwu6ntwwrXw^+bm0J4{>OAQra~Nm##(Q7iNQGFtPxQPXgER+zzuQ(pMj&K3Z3!dwUSu2(lFBV?9Q8cD_QT|zq"
        "wWrf*O0U0&(k?CHP9}Kd9~t%>$+U9>D&eN7Mq=KpXra&ov*xHgp87_-b%%oAxSJr8bj|x$M83Ry=!vrQlo+P=#+<6rW{"
        "&RTM=ob9q>?(9y=6ykGHgZ+kwZG{!u7r2)ZltPO38hC0(-#|s%F?ghEeG#!GwTf^FN8Xn6M!lQ8#OgJWwK}wl17*WTxE"
        "atd24NXTkJije!uA|vg8N!b1*o<7dI%NaHvVEWlPp8l0DB%Dar*9mz$!Nk;j>GaKIUNr%$M8QmlmB07=!*_NYPpL#Y-o"
        "$dzCg#`oXA~-j(tKq-d8*F-_m%#BmWDG?p+r"
    ),
    "reloc_64_64_sbpfv0": (
        "c-pO0O;6iE5FIB0!p9*{32~}?=m8E{8)IifPN1epNN&ZoCu%!u5{RA1St`N>{sa<7eina&TW{?qnT^)lSdnN)UcH_1d%"
        "H8<9Y1{W&q{^?(#o(l^-K(%VEnN>r-)cn@J?U@sxYCgD106FAdgkV$?J+3ugKH!0`e$zB{5dTXd+L?7sz83{>}C@{|WI"
        "UVg+$q@=G(^LBEFhLGxE3U+<>2--^s1*V{mU3vu_I^%&FKjK9tYSjw~UaL`M6?)(fKelNXYS<CeOw&~d9kWh2K%lUBBv"
        "aG8f@7{(a8YEVb-Us!&@x9gW|4iz`Y;esYP6WY>Slns2)TLo)JG665J&(nK+i6gjF*k}mN*zWc=U{pM6?prt$F1q*D9!"
        "JIv`<C#63*^8kj^*_l3p~OjK;|fc?Kk7{mC3AWhLU{01>Zw5DM%H!fZA}5Zpm@*>J@}8V<FO;y8@sX5a;$U5~DAiLHL#"
        "%l7wgr(e%M!~ZaOKJq>l^&b@U!y0O3dl&UnMbp<5+{C_I)W^1>Hx#}4UnnbjdEX^&EvQ#DQ;c;*FZ)koZT??doc{r?X>"
        "055qyDB~e~FH=w`$KA{DJ;D=AhT#QgT!67wY{b^|uT3Z45S-=>GtaplER"
    ),
    "reloc_64_64": (
        "c-pIX^>JfjWMqH=W`^$!Fdm3@fU+eRVe%j`3kD`2$;!Y2Rs+Ht7!UwizXVJ_l;&VS1t%D=1AR1_5zQQ!*i;y&C^aWPIo"
        "`|!i1f^i%ngjw(vs5BED}u<O$~ID(@XUX7*g{}iYg28GxJIq81za~D@qvjiZhB!ib@ibfGj9ol%JAVlE^?Qkc7IA2~B("
        "h4)u&!_#n)NCbj`fIA9A`L1<ht;0SL<0`{}x(ElAuD-zHT0C{gCTm"
    ),
    "reloc_64_relative_sbpfv0": (
        "c-pO0PjAyO6nD~=ZFCX^B*Y2zSdi)_A&JwT_%qOu0^-1hQ{_1BTGl32=S}S{yX-6QJvj2Q;D)#qH+|k5kFFBpNzTuH{="
        "K|E_VdM?_^oYONJ$0l6ssnvUV#2b<%%M85vs~>9qpkNt)}r!e2mJt3%J^@$`Jw2#Ji}Brrj^#nfMWvQQ6sY+>zrDcqV>"
        "BW!%-`j;_mtz5?=0%ofvpl!^8F3FxbU_W>h&jSpbm0DNeye=nE0$`3)TdR}#-jy1rRU9QtU;3M>JVimDkH_p#YSnaDi#"
        "iQ()&w9-`K4^Llb}?zThC)nFdY#VENDNOC%<@TxX6Lj$Uz~Tw<FiS7I?KOsCa@$l86TvfPkfRjjz`ii2?9Q#ei{;=bDs"
        "?YLOf2G_jG&wRrGUd>Yo*R_Ko}1FD^&r>K-Whw5bkQ@VP*EmZwxugwsVvCnHu&P8O3jikT$v@oJ7%X-{PF5SH75CK88|"
        "u%4|ENp8;iq2HGiDn@4<cbOY{5lMnD8W1;d+wABRI|#=#%QMV5O_L;e9ul6WUf1;!m$@wEK{xVf;-`|S9asP0^M{x3-@"
        "QivLo68Tes1b_Wb~1e9k932?R~HN)8!ucR?pF<KCT)58(RO=HUH-O;b``j@eUMuf^XaCKZW~S;%~{Zr{`~%v0=O;X8bP"
        "v(=q;g2=>Pt{44BfzIFKy%DMLLR{xU!E3NjrIF;+Zxh?;AgZ(8ahg<Cb0Hzg&tN"
    ),
    "reloc_64_relative": (
        "c-pN}Jx{|h5WS>O0SkzQZk<8G!lC)vy3na3d+--f36d%pL??a)|BIi|m5FZPv^EVVS6z70>0R#5_Z;87U5!U!5P(AmzQ"
        "BDoJamcB<(pV$cnDqCUDoUvn}Z)mi1%8(8(Xw$+qymL_t3fDzJXt_K<vs?sq5Lanw0u)Ux#<+)as!UMKUOi!}R1ukzCL"
        "u%2FOD*=<T=dM@ss$pw%xE31+y#U$tPWs)i>qnt*Z3M!<E^DJU~AWbFK_F?sopWirsw#==6_Q3MBv12=w_Im-TE6Fqiq"
        "SdPg@}z6cxZ&C3itlaYpWx;gqWB!m9naWd-^RMAW&!>=;XOFCI|&>1qu8Q<;<<Z+sV%&L_1<?{`tDx+4f-GU{OK0`ADu"
        "Kk+y"
    ),
    "reloc_64_relative_data": (
        "c-pIX^>JfjWMqH=W`^$!Fdm3@fU-X@!sJ0>7C_p8fsKI`tcC@MUoc<?8fY{JlGz|EfUp|HUIi#y0Zkta7%*bDPYaEPDJ"
        "x3N$xn_qGl>T>5=%16QsYw+OA_^x(e+C(BJ2c#N&yHxm4T2!sd*(ul?C~kc_j>Po<6P&_yHu`KK@4+mjYrT1}2PfPz7Q"
        "^pa@2I=oRII9KfJgl3G#1pjTW{RFaqkq$_hFbOuy}N&psb#%SU%(Bhc^N4#-D^|PUw2}=hG1oZPm(;x$m^q_^sy~scuh"
        "?%hHPk<^+U_hjECM5eMptL*=`wu|%YZ9;@01T)z_W"
    ),
    "reloc_64_relative_data_sbpfv0": (
        "c-pO0&2G~`5FRIK3vDG@DxrW7@&&0NWfNQ{3q2qZZK0BZb5H5U*$~s%j@+e+d!a9Z#AEPEJOWoPVeQPe>rG4~#7N1vJ3"
        "Bu+-;U?&p?6fVEKpK~wR~rz>J{qiwQCcpdk!`EzX|J*nXPE{a|lJeg_s?$X0cQr19zc_x?gscdIj%g;1v{6`BgCA5aXN"
        "p1B$5p>NnKnl5WlL8}1W6iv4cK?aBoc!3FR3nP9}%eX^P!;abtSjX1%3-!*vJLBw?MdpeC({eZRTb#JIW;tJv^p068u@"
        "4>%`mEYBxd*97Gb`?&oB7eXmk)-1|hy)xRdxuJG+NpRJzLgh5XFS=rJ@3GFTI3m__U=%K@%etU`6&>?FFoSNVUtCdtT9"
        "P1o1@W1*cd1AXYLCk4Q!te`W=_LwAX7nwEu#(+kC*>euui8yZ)d}sl%!7JXv0E4Sr2c{nNauYS;av<Ut8PkIVQWf=>jH"
        "B+mK<NZviNm!v{&(ujqDpD)hSaE2m*+(51&;~<m_1Chsq^&}3Z!E80d@(wj$rh9Pm;r09DH}F5i(!TM(%>^*NHzjN6@4"
        "({uaDPEQ9q-_}YV_M2|0Ve!;@y>h*}Paa{I|6C-oRd7G^gHa{+2#(5F41gVtmI6w@d0*(w4v5n!lPe3T<OfnD>8)F<VC"
        "5@92NFg#Wi%?gGz9=mc)&R&_!BA2sfExk4pdQvXSb|4&rzE%E;Y3TlFv"
    ),
    "rodata_section_sbpfv0": (
        "c-pO$&2G~`5XZ;)pe?CH3lidlaw8zcaS}V*<U~u0iexGdfCQIduQ!cpVn@jqCB1Or6?hMhJQmy#m#~g!+s!5>5@MwF&p"
        "SK+{oeU};y%wA21v`p)}mHM*HiTW$X|yD-vJcFw*)(ogcX(e6~Z#Nkx6qQ=}V5IaU0fC>V9FI&R4KZsmqCSOO#WL)A<d"
        "SDRmEwn>i&m+e`Ts>rapmkp<*F@*tP;F4j>F_q6)&`8<~E1Dvb6u9BP&vWTo;|F^Nei@Xp2X2xQ!#>)8ti}-jpio=L6o"
        "v+*{H;gXWxKnoB<8s3?>n15z`kap@om%ZY<o!$Er17xkMOR*RI=iY32A_u2(K!CdC^tnwnX+EcvWZQ6-)fMcO&o{yJUe"
        "I+n=zaA96}n5(8lA<^Dn^9x$b|oXv?kKuMdmMk-xqN(%xk4gUQ*HgE@`^k9%MSv&b8Ubn!Ep4O8;52w;QcAChGc#pZ!2"
        "nz`o-_C-MYmlD#>x)ZS%VH}yP*J4h)-DC~w)1YZr>G`E;LHGSx-ChoL-X6N$qdMsmpS4?_-)u3f?NAz=sOQx^es^~G^2"
        "Iaw4`yJI_cQCggZ7T3ZJ|B~e}DH``a3wbOh;MoxTxv(l=o9o#@F+QrRWVc4=8youju9bliXdiU#e9^*-`W|KS=Irc|@O"
        "o9s9Jjeos+<kuknxM;TkS@93PuO+G2CS^tr;_o`Xwe7#})ZifB~I>Qb6KMvD{`T"
    ),
    "rodata_section": (
        "c-pIX^>JfjWMqH=W`^$!Fdm3@fJrdH<UwK<K-z(Uje!-ch6RXUFklB9IA}&F{(z(w*<J-GTLDcU3<xk{w=V&WhAGp6(h"
        "_L;Dg_|)RG2_feoA6VVtjFGa!F=>o?dF2S*od}rE#iJa#C`Nv59VSda0fPLwuB<p$V!|(=bP$cqc>i4D+N^OS8lzW3yB"
        "POVi}!6jz4Sypp2Ig8a<95(ZoV5{@7Lql>G9<rp!-GZcu0ppk+cUJQB=S25_7q*jzL=oOa~l_Vws>B?LPodFf05`e`c6"
        "Pox79Px(E=Y;BKLo@ROTKwbE&ks$L3^>w90v7io192>F2Y~`K{mf7dvtI&A%j2;B0#v^y0s8^zR6NN"
    ),
    "struct_func_pointer_sbpfv0": (
        "c-pO$&raJw5XQ%UNK)W{dO)0zk3}LI6WQ5>_CN(xLUJpvJq2gIPSRi}ayE!?;VJqKJ@#?>0DS?(1C+HhMr$i>rNT&?pZ"
        "$5hWM;jS`*ZJ;u4#~m0rl+8Lg@tcuJN2AwXV!Nfj3ZxG;Kr4FLMuyY#`Ierd&TTugninWbV`Ds-^W{UYRo}vH>rPwC+Z"
        "|mbM6{p=;k!-$$Cr8Wii_D)qgA{Dsdq@qQb*`=9ltU-wpimiHTYERyAHI*tW+<9Nc8W6Sf-thP;#2({jggqY2bTdm<(j"
        "1~jJrcuj}@BHTN@~(A#eG@fj$@Cj%g2)7m@i6E()S-ic-KIg0x-JiWC+JXzbBBd4rEN}G`{3_&n(*+atkdkJ>d)^lkHf"
        "0Ih~T#ZNU)6kXw0&U`7&BjB#?Fz$=-oTRrmwRk<?dLD}v;LiGH|<SwGt$o{+!}d#u}aJ8szFw(B?9a6xQ!7yD;lzkK|B"
        "aSE>z8m|1@RLu=koZ~ur^RcX&1GD7cQMiTkv~K=v#jh!Tb)F5ypP%cT+iUt&!$Qq2>Ax{?QsK{ep!~KPmndE-eH&})KT"
        "`Hiji2a0{YU-pEBudo@qe?*{{%LIY2p"
    ),
    "struct_func_pointer": (
        "c-pIX^>JfjWMqH=W`^$!Fdm3@fU*@BVe%j`3kD`2$;!Y2Rs+Ht7!UwizXX&Gqd6E*!3hTJz#NTcL^6kiosAX5W?^PxoC"
        "?!WTvAk;ToRvFnwK13ke``Xl3JvfVvuH;Y++$)W}0S}YG9hEo19*%XTXq}S5j07R>Q!cSCU#$!k|~20n}fTm;_`&>7x9"
        "U#F9h?N`WNQ?M!Im8*r#+#KH$*HZ-vfXyM9$BYXv+amIin+!+bj&yGX?e<-a;KtBM=Hz(x"
    ),
    "strict_header": (
        "c-pIX^>JfjWMqH=W`^$!Af5scgJ=h+cmxwn9wcS~q#YR87+Aq-Sb+Ei19rfHgJy){4@hbmk!S-b+W<`;3@9*Sx33e8hA"
        "Gp6(h_L;Dg_|)R4Bg{$p8KS|9=>tp}3?dGr1%_BQ-H4wMfs%%)rtl(ZoF2#K0^m$t+1XIlWZRfFVB0&(Ih}rEyw*zM*-"
        "Bg{5hdNvegJd0L9OxrvFHD;A}uVU9lWPC&(`MrkI-CPs;gNy(`e=4Pg@45@h~MU@5lnRz7)1OOx+KK@4+R|8@u1}3-~1"
        "*mu+n9qn2Pjx^n1XK@;e*u^Ry`ub-#F9h?y^_?55(Yh>4@we~fOKUpgwBA9Pzk`&2NRn33moYIozDr?&xU5^2efpBOFu"
        "s}tux?Acb!<=iwwlExE%yGKowRnAo3FnlKm1;S{{e}8c;(u3D^$+gPKnt"
    ),
    "syscall_reloc_64_32_sbpfv0": (
        "c-o~@OK;Oa5FY12+XRUK65@n>EJAS-+p$Ydg%$*oK|OGQQ*hRsN9#xAY*E|`T=)t64{p8iqu|OVtdrSvv($|QBdxyO*?"
        "I5Ie174*ENL1DD#On5q$BH4TvXN~oOi&Fhfs$-$i=FXyoznu#9c%UO`f2fiWSAJs<&H0zJhbuM4^{o-{R{%+E?*AY@*P"
        "6s9nXB(`9Mp|7!za!RZqD-w=mMQp@p?68~Mqj~M4YJnM+}5gUlV7mGyX3mChcXI;dHSVcU+`<i0!0sI?j%UHF)-t)F(d"
        "xL1q(rlVcVg_L{TI-2=9%xtb<)M0$_>87K-Sduhvu$(?SKl8qHl6iat<i*y&j$ucqLv?D_|18C(F(&)QFEFmr<5>*3+R"
        "Ln1IKo4cQ9z1Zt&FYcInW!1IM)~waKvSx+Zmr`FMMt75KGK`Mu@mDX;&DpeF@&af<3<Fgj;oq)Fg2AB-T2{b)j#n^_jE"
        "kfmIJhWQ@yv?E?jF!(j|2OP&-V6|Hz%(5Br!?4eF64H0<zGWJL)ge~baxA+uq^8v*qjRIJzDoc2!`o+XULV1KlZH$D&!"
        "YYZrLP3-tpC`}b3pbd^Y5VVGThwPRmFcp>YqCP#p~wDD@k9I=YrI~Wl3N3pTI^z{DSuR+LQFfd=RJ?%t2wdgErMVe?k4"
        "T0{@!yzf0G=>rZ8#)-X>s|L0QeWf~*%-In~l0{tJzJldlF2eUhU8v"
    ),
    "syscall_static": (
        "c-pIX^>JfjWMqH=W`^$!Fdm3@fU++z!sJ0>7C_p8fsKI`tcC@MUoc<?95`r3DE@$?7TI0{DBA!{9}FlkVz<u-jfN>p%g"
        "^Tm(GqC-wlhK8-wMS44u8$w4i%pYQ&3!4oSc}G6JK1CSdy8nXO@zbVqjpDY+;gUnrd!fsGFQ#s%OBEnpaX(S&*NZSHgf"
        "FK*H<ee{^wmAQoa^!tg(XUQvEZVo4%{UP)?234>m7Nl{5+5|FOUh0qyL5h?*#ya=I*zrYa>u;65Y(wtB+HZ(OK(BhK;h"
        "k5+aG{%4<zKw9$4+G*r%!EaM1XQ6110o$WA=xhhrR8zhzW}OVlYspI^D{F("
    ),
    "callx_unaligned": (
        "c-pIX^>JfjWMqH=W`^$!Af6&r$N?(;fC;VyC}sgv=fJ?pzz$Z+iliQ$R$xG-83Z5{NSXzRH$c^)(>4sKG)y1J8Ehaoz}"
        "$yM7cijG91IkKaz==y?m$`-h<l-qp9+zdgDPWz(rgT<{@{l4C7?7bEIgs|Tu?p_lolh?nIPkYfFydjGo<E~6jc`FXXce"
        "K_+;i~rxsZ$`1rUe7@F%D=$YX+kA>mme{^vJa3nCn!y5)vaoMj|l3G#1pqEmamzbNG3}zHp=0fO_A_l$W{M=li8yWO~q"
        "9ut*Kso~`4q-uPhN9G*#FEUi)cEAYoE$wvGvhQ93!_v619KBovsB&W^in+oWN*g1MEW`UdO9;u1294{EMC#mw*;Dc^z_"
        "CK)yvF)KfSV`=@&qvxuNMETRt&B($9#bUjm6{M$!*UcQBd<i+_=U0#wWZP5cd1p)d~pFj^DIZWI6&OhEECGZyz7B843?"
        "NPy~hCg6T+9QqeS^;;6q4*<y4OXU"
    ),
    "data_section_sbpfv0": (
        "c-pO$F>ljA6vv;Pv`tBeP$bj|c|mHC;y8(ub2_D>MFoX|7!Y)c?8~_cjqND8q9hADJKuwim5&4)VhQKuoqI6}k$@*zzk"
        "AQ`e}4DQcOTALPjpQKX&Km=dj^J@82^?@Qbf!Vc}>W}F2reDN`9J$u*@7Xe!VT8ADEZs8(5~)>8Lx$yfi<<GIQ{6b|B_"
        "G*KhqPe&-ANpO6obS>#=$gW7%c3&?vZ|L1HL$-V%tQSC=w)`Q%VeZ~3jpudN_|Cj64=Cx|S?H{m^4=01D7xJb3mHmB$Z"
        "1uuxHas?3ty807nPrn0hh5GGqvKNPs>i!Go=Kyi<c3qXIG#*P{r>x)I2cCn80Dr&Fevjob(`44^Q;Q#G)S$+eAn*OiOr"
        "Zz{Td+^Mrh?|^E$HdeU^?toWI*n_Egq?Isduz<Uf-3VqHH>&c+<f&Lnh$9-R+HlVCwU1arvx@mK_0?n1oiK(r7{k;Gk3"
        "uq)CQqXi*OY>z}AdQoT+T6U;k_k3zKtZI!E>D7&CLHqKeTu~FNuTNTK(q&$i+7|KZRc4oK4gXBtulDKNi<9S1AH#nzO*"
        "y-NI`6RN{OzDtUMK6$Z#JbbD9qzMu<G8h6uqYC4-{q;y*xjXdn?wfnjxNDMK8~{WFfgnSJ!`pb0+K8mzmqpzY^-LRQx6"
        "Cuh-Ns=_s|U_7#I;xV=xZEBe<|YFEv{;HwS&d$vaZ5rcGt{ui)^f)M"
    ),
    "bss_section_sbpfv0": (
        "c-pO$&2G~`5XZ+(+NPw3P$bk7@_|E(l+D_8vTZN4qD8IbR&YVUCGy9n2~C{H*`g#D#6$2N+~AS8azk9gCYen)CMFUvlJ"
        "(me|Hqo0_3Vc;@40ChpezR)Q_sTCF~+~;<`Nk@kh)_i!X`{)YnndIU07rRIeEP<pC718^9AZ&r}9k9J4aobpJ9;&_&3{"
        ";-#s_){E_sZNPa>86Y>!<kGzjOz}#*0OUMT)|L1tzReb^6qu!6Ast38I`ikGbhyE7w;a~38nAU3ic7DKPkqmp?RxB3IS"
        "M}Fx#Wy@TvOMq9awxG0vv!+8^!i7Y%5_ULZvzr`I~6}3`Q^cIRB5;0cgnq_`;Lc#NP!jdMpSc|%YuM9EIMS>DsT91RAV"
        "mZZrG?Y=5Q7|d#mfu!}oDI{&@OseSVe&{r@t}`TwKrGOG_n@PPml4P(F43a5+yurs4bfF!&<Spy0BeVFXIBRdB~YJ?w1"
        "Hl=E|nh~U~-j`iybz@?O0d)_n%!xv}Pi?mxUf&W5^|x2Ht?Bk(op?5D+Kx+|sOD40_c^usnSMz1(>GTqmlx0A|Cpi8?4"
        "RZwGUjdrbJaDHHMjXxeo12y=YQFKLA88C%iqzM)AH5aC~hs;uWpunHnn^;*NUb2{kgpUJ&euwZ!WU1qJIQyqN%vbzsaa"
        "yk!iK-_7#HzxVuO4OZxXzt6evW!Ivxgcaf3*5rh7U{9iJXfKd"
    ),
    "program_headers_overflow": (
        "c-pO0!EVz)5FI-%O(_x-B$N~Kjer!#N$hNsQ(Ib8BvWw!B)9~7y=hDnJ4)Ot>7^Hbf&b`{PvCRPt>O~a$!u6JM3E39t>"
        "5l?-t5fm&RiXNFLg}=AqCi+uWn`w*~9&t!cqnHU>6Mj-G(j5bT{}g(S+a$G?62)h?uDxnJwf!fIJpgpy1si?>pr2je>%"
        "w^KpldW8{?}kJkzcUP=4yQzlbfe8u&1#3zUb;*PL`=RH*7d!(#?&Sr^-571XRu5HEN4a8f-yNLG?AH%<iHuqHn_5Ogx>"
        "1aAkqBzanv&fSd#b<2PHa+jqtlL)2B4)Xlro(Z&T0M=@-g#irWKi|vOTRLiURL}4i$P^LN<K51T3o@TtQ$5R;*cP)>m+"
        "Ou*JWMb37f=W%%NSEkUAr@{%pPf2K<<*`%mZp^grI$r}^V3Eb}Vl-KsoTDVwBVjgrt$eXzo5><=P3pNyx21*Rje!1~!7"
        "vakm{d0_G1sUL9cafQWffv_;v8S`93No=uhlew){gVkw3!-i9#r{|UposTCqC$H+h-}gEPHPRyiYc>6#(PVbZr8GQ}@2"
        "hk8;bi~ys~7MeM8hH8=Q2N9zRp3(vye^X>&p8VeW198e;>~-DD@!f`dX=vqH<0NYe`q?OY{?4;%jmrkos6b;*0t#>-qY"
        "V^Ce4}k1dHW`opfC_tRM6e+_Ngirr)6pRG7wU|Tv{mT$N@k@|`8m-r8)+{<F)=G!&#dn@=~a5GxN{{>tEyDt"
    ),
}


def elf(name: str) -> bytes:
    return zlib.decompress(base64.b85decode("".join(SBPF_ELFS[name])))


class Syscalls:
    """A syscall registry by name; every handler returns 0."""

    def __init__(self, *names: str):
        self.by_key = {hash_symbol_name(n): (n, lambda vm, *a: 0) for n in names}

    def lookup(self, key):
        return self.by_key.get(key)


LOG = Syscalls("log")


def load_error(data: bytes, syscalls=LOG, **kw) -> ElfError:
    with pytest.raises(ElfError) as info:
        load_elf(data, syscalls, **kw)
    return info.value


def put(data: bytes, offset: int, fmt: str, value) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


# --- sbpf tests/execution.rs: the ELF cases, run by our interpreter ------------------------------
RUNS = [
    # name, input region, r0, instruction count
    ("relative_call_sbpfv0", b"\x01", 3, 16),
    ("relative_call", b"\x01", 3, 16),
    ("reloc_64_64_sbpfv0", b"", MM_PROGRAM_START + 0x120, 2),
    ("reloc_64_64", b"", MM_PROGRAM_START, 2),
    ("reloc_64_relative_sbpfv0", b"", MM_PROGRAM_START + 0x138, 2),
    ("reloc_64_relative", b"", 0, 2),
    ("reloc_64_relative_data_sbpfv0", b"", MM_PROGRAM_START + 0x140, 3),
    ("reloc_64_relative_data", b"", 0, 3),
    ("rodata_section_sbpfv0", b"", 42, 3),
    ("rodata_section", b"", 42, 3),
    ("struct_func_pointer_sbpfv0", b"", 0x102030405060708, 2),
    ("struct_func_pointer", b"", 0x102030405060708, 2),
    ("strict_header", b"", 42, 5),
    ("syscall_reloc_64_32_sbpfv0", b"", 0, 5),
    ("syscall_static", b"", 0, 5),
]


@pytest.mark.parametrize("name, input_data, r0, count", RUNS, ids=[r[0] for r in RUNS])
def test_sbpf_elf_runs(name, input_data, r0, count):
    from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions

    exe = load_elf(elf(name), LOG, deploy=True)
    result = EbpfVm(exe, standard_regions(exe, input_data=input_data), BudgetMeter(1000)).execute()
    assert result.error is None, result.error
    assert result.r0 == r0
    assert result.instruction_count == count


def test_callx_unaligned_text_section():
    from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions

    exe = load_elf(elf("callx_unaligned"), LOG)
    assert exe.text_vaddr == MM_PROGRAM_START + 0x121  # .text at an odd address
    result = EbpfVm(exe, standard_regions(exe), BudgetMeter(1000)).execute()
    assert result.error is not None and result.error.kind == "CallDepthExceeded"
    assert result.instruction_count == 129


# --- what the loader produces ------------------------------------------------------------------------
def test_v0_image_layout():
    exe = load_elf(elf("rodata_section_sbpfv0"), LOG, deploy=True)
    vaddr, image = exe.ro_region
    assert vaddr == MM_PROGRAM_START
    assert len(image) == 0x148  # up to the end of .rodata (0x140 + 8)
    assert image[:0x120] == bytes(0x120)  # headers are not mapped: zeros
    assert image[0x120:0x140] == exe.text
    assert exe.text_vaddr == MM_PROGRAM_START + 0x120
    assert exe.version == SBPFVersion.V0


def test_v3_image_layout():
    exe = load_elf(elf("rodata_section"), LOG, deploy=True)
    assert exe.version == SBPFVersion.V3
    assert exe.ro_region[0] == 0 and len(exe.ro_region[1]) == 8
    assert exe.text_vaddr == MM_PROGRAM_START


def test_symbols_and_function_registry():
    exe = load_elf(elf("relative_call_sbpfv0"), LOG)
    assert exe.entry_pc == 4
    assert exe.symbols[4] == "entrypoint"
    assert exe.symbols[0].startswith("_ZN13relative_call18function_stack_ref")
    assert exe.symbols[13].startswith("_ZN13relative_call12function_sum")
    assert exe.functions.lookup(ENTRYPOINT_KEY) == 4
    for pc in (0, 13):
        assert exe.functions.lookup(hash_pc(pc)) == pc
        assert exe.functions.by_key[hash_pc(pc)][0] == exe.symbols[pc]


def test_syscall_import_execute_mode_keeps_the_key():
    exe = load_elf(elf("syscall_reloc_64_32_sbpfv0"), Syscalls())  # nothing registered
    key = hash_symbol_name("log")
    assert exe.syscall_names == {key: "log"}
    assert struct.unpack_from("<I", exe.text, 0x138 - 0x120 + 4)[0] == key


def test_unresolved_syscall_at_deploy():
    err = load_error(elf("syscall_reloc_64_32_sbpfv0"), Syscalls(), deploy=True)
    assert err.kind == "UnresolvedSymbol"
    assert str(err) == "Unresolved symbol (log) at instruction #39 (ELF file offset 0x138)"
    # the same via config
    err = load_error(elf("syscall_reloc_64_32_sbpfv0"), Syscalls(), config=LoaderConfig(reject_broken_elfs=True))
    assert err.kind == "UnresolvedSymbol"


# --- sbpf tests/elf.rs -------------------------------------------------------------------------------
def test_entrypoint():
    data = elf("relative_call_sbpfv0")
    entry = struct.unpack_from("<Q", data, 24)[0]
    assert load_elf(put(data, 24, "<Q", entry + 8), LOG).entry_pc == 5
    for bad in (1, 2**64 - 1):
        err = load_error(put(data, 24, "<Q", bad))
        assert (err.kind, str(err)) == ("EntrypointOutOfBounds", "Entrypoint out of bounds")
    err = load_error(put(data, 24, "<Q", entry + 9))
    assert (err.kind, str(err)) == ("InvalidEntrypoint", "Invalid entrypoint")


@pytest.mark.parametrize("offset, imm, pc", [(0x164, -11, 8), (0x17C, 5, 11)])
def test_relative_call_out_of_bounds(offset, imm, pc):
    err = load_error(put(elf("relative_call_sbpfv0"), offset, "<i", imm))
    assert err.kind == "RelativeJumpOutOfBounds"
    assert str(err) == f"Relative jump out of bounds at instruction #{pc}"


@pytest.mark.parametrize("name, section", [("data_section_sbpfv0", ".data"), ("bss_section_sbpfv0", ".bss")])
def test_writable_sections(name, section):
    err = load_error(elf(name))
    assert err.kind == "WritableSectionNotSupported"
    assert str(err) == f"Found writable section ({section}) in ELF, read-write data not supported"


def test_program_headers_overflow():
    err = load_error(elf("program_headers_overflow"))
    assert (err.kind, str(err)) == ("InvalidProgramHeader", "Invalid ELF program header")


def test_long_section_name():
    data = bytearray(elf("relative_call_sbpfv0"))
    h = S.parse_one(S.Elf64_Ehdr, data)
    shstr = S.parse_one(S.Elf64_Shdr, data, h.e_shoff + 64 * h.e_shstrndx)
    table = data[shstr.sh_offset:shstr.sh_offset + shstr.sh_size]
    at = shstr.sh_offset + table.index(b".dynstr\0")
    data[at:at + 8] = b".dynstrX"  # runs into the next name: longer than 16 bytes
    err = load_error(bytes(data))
    assert err.kind == "FailedToParse"
    assert str(err).startswith("Failed to parse ELF file: Section or symbol name `.dynstrX")
    assert str(err).endswith("` is longer than `16` bytes")


def test_unsupported_versions():
    for flags in (4, 5, 0xFF, 0xFFFFFFFF):
        err = load_error(put(elf("relative_call_sbpfv0"), 0x30, "<I", flags))
        assert err.kind == "UnsupportedSBPFVersion"
        assert str(err) == "Detected sbpf_version required by the executable which are not enabled"
    v0_only = LoaderConfig(enabled_sbpf_versions=frozenset({SBPFVersion.V0}))
    assert load_error(elf("strict_header"), config=v0_only).kind == "UnsupportedSBPFVersion"
    assert load_elf(elf("relative_call_sbpfv0"), LOG, config=v0_only).version == SBPFVersion.V0


def test_v1_and_v2_use_the_lenient_loader():
    exe = load_elf(put(elf("relative_call_sbpfv0"), 0x30, "<I", 1), LOG)
    assert exe.version == SBPFVersion.V1 and exe.entry_pc == 4
    with pytest.raises(VerifierError) as info:  # v2 has no lddw (agave-facts #16)
        load_elf(put(elf("reloc_64_64_sbpfv0"), 0x30, "<I", 2), LOG)
    assert str(info.value) == "unknown eBPF opcode 0x18 (insn #0)"


def test_v0_layout_with_v3_flags():
    # EM_SBPF is a strict-header error; with EM_BPF the v0 program headers are rejected.
    err = load_error(put(elf("relative_call_sbpfv0"), 0x30, "<I", 3))
    assert str(err) == "Failed to parse ELF file: invalid file header"
    data = put(put(elf("relative_call_sbpfv0"), 0x30, "<I", 3), 18, "<H", S.EM_BPF)
    err = load_error(data)
    assert (err.kind, str(err)) == ("InvalidProgramHeader", "Invalid ELF program header")


def test_get_sbpf_version():
    assert get_sbpf_version(elf("strict_header")) == SBPFVersion.V3
    assert get_sbpf_version(put(bytes(0x34), 0x30, "<I", 9)) is None
    with pytest.raises(ElfError) as info:
        get_sbpf_version(bytes(0x33))
    assert info.value.kind == "ValueOutOfBounds"


def _strict_ok(data: bytes) -> bool:
    try:
        load_elf(data, LOG)
        return True
    except ElfError as err:
        if err.kind == "UnsupportedSBPFVersion":
            return True  # the e_flags bytes: sbpf's test calls the strict parser directly
        return False


def test_strict_header_file_header_bytes():
    data = elf("strict_header")
    expected = [False] * 16 + [True] * 2 + [False] * 22 + [True] * 12 + [False] * 6 + [True] * 6
    for offset, ok in enumerate(expected):
        broken = bytearray(data)
        broken[offset] = 0xAF
        if ok:
            assert _strict_ok(bytes(broken)), offset
        else:
            err = load_error(bytes(broken))
            assert (err.kind, str(err)) == ("FailedToParse", "Failed to parse ELF file: invalid file header"), offset


def test_strict_header_program_header_bytes():
    data = elf("strict_header")
    for index in range(2):
        for i in range(56):
            broken = bytearray(data)
            broken[64 + 56 * index + i] = 0xAF
            if i >= 48:  # p_align is not checked
                load_elf(bytes(broken), LOG)
            else:
                err = load_error(bytes(broken))
                assert err.kind == "InvalidProgramHeader", (index, i)


def test_strict_header_rodata_program_header_is_optional():
    data = bytearray(elf("strict_header"))
    code_phdr = bytes(data[64 + 56:64 + 112])
    data[0x38] = 1  # e_phnum
    data[64 + 8] = 0x40  # p_offset of the (rodata) first header
    err = load_error(bytes(data))
    assert str(err) == "Failed to parse ELF file: invalid file header"
    data[64:64 + 56] = code_phdr  # now only the bytecode header, right after the table
    data[64 + 8] = 0x78
    exe = L._load_strict(bytes(data), LOG, SBPFVersion.V3)  # sbpf's test stops before the verifier
    assert exe.ro_region == (0, b"") and exe.text == data[0x78:0x78 + 0x30]


def test_strict_header_unaligned_segment_size():
    data = bytearray(elf("strict_header"))
    data[0x98] = 0x29
    data[0xA0] = 0x29
    assert load_error(bytes(data)).kind == "InvalidProgramHeader"


# --- registry collisions -------------------------------------------------------------------------
class Claims:
    """A syscall registry that claims exactly the given keys."""

    def __init__(self, *keys: int):
        self.keys = set(keys)

    def lookup(self, key):
        return ("claimed", None) if key in self.keys else None


def test_call_target_colliding_with_a_syscall():
    err = load_error(elf("relative_call_sbpfv0"), Claims(hash_pc(13)))
    assert err.kind == "SymbolHashCollision"
    assert str(err) == f"Symbol hash collision {hash_pc(13):#x}"


def test_entrypoint_colliding_with_a_syscall():
    err = load_error(elf("rodata_section_sbpfv0"), Claims(ENTRYPOINT_KEY))
    assert str(err) == f"Symbol hash collision {ENTRYPOINT_KEY:#x}"


def test_r_bpf_64_32_against_a_defined_function():
    # Turn the `log` import of syscall_reloc_64_32 into a defined function at .text + 8.
    data = bytearray(elf("syscall_reloc_64_32_sbpfv0"))
    # .dynsym is at 0x208; entry 2 is `log`
    sym = S.parse_one(S.Elf64_Sym, data, 0x208 + 2 * 24)
    data[0x208 + 2 * 24:0x208 + 3 * 24] = S.build(
        S.Elf64_Sym, st_name=sym.st_name, st_info=S.st_info(S.STB_GLOBAL, S.STT_FUNC), st_other=0,
        st_shndx=1, st_value=0x128, st_size=8)
    exe = load_elf(bytes(data), Syscalls(), deploy=True)
    assert struct.unpack_from("<I", exe.text, 0x138 - 0x120 + 4)[0] == hash_pc(1)
    assert exe.functions.lookup(hash_pc(1)) == 1
    assert exe.syscall_names == {}
    # ...and outside .text it is out of bounds
    data[0x208 + 2 * 24 + 8:0x208 + 2 * 24 + 16] = (0x150).to_bytes(8, "little")
    assert load_error(bytes(data)).kind == "ValueOutOfBounds"


def test_error_messages_table_is_complete():
    # Every variant sbpf 0.21 defines, with its Display text.
    assert len(L.ELF_ERROR_MESSAGES) == 23
    assert L.elf_error("UnknownRelocation", 3).args[0] == "Relocation failed, unknown type 3"
    assert str(L.elf_error("InvalidVirtualAddress", 0)) == "Relocation failed, invalid referenced virtual address 0x0"
